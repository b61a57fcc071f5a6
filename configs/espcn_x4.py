"""ESPCN (Shi et al. 2016, sec. 3.2) at x4 on RGB: convolutions at LR, a sub-pixel shuffle at the end, MSE.

  python -m launch.train --config configs/espcn_x4.py --workdir workdirs/espcn_x4
  python -m launch.evaluate --workdir workdirs/espcn_x4

Result (launch.evaluate, 2026-12-06, 2-core CPU shared with other jobs, load 10-21): a short run
(--config.total_steps=6000, stopped by SIGTERM at step 4,005 after 20 minutes of wall time): Set5 29.28 dB /
SSIM 0.828, Set14 26.66 dB / 0.732 (x4, Y, shave 4; bicubic on Set5: 28.42 dB).
"""
from configs.srresnet_x4 import sr_config


def get_config():
  c = sr_config("espcn_x4", "espcn", crop=96, batch_size=16, total_steps=20_000)
  c.g_optimizer.learning_rate = 1e-3
  return c
