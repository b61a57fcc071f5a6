"""ESPCN (Shi et al. 2016, sec. 3.2) at x4 on RGB: convolutions at LR, a sub-pixel shuffle at the end, MSE.

  python -m launch.train --config configs/espcn_x4.py --workdir workdirs/espcn_x4
  python -m launch.evaluate --workdir workdirs/espcn_x4

Result (docs/results.md, 2026-12-07, one core): with a cosine-decayed rate over 25,000 steps
(--config.g_optimizer.schedule=cosine --config.total_steps=25000), 34 CPU minutes: Set5 30.09 dB / SSIM 0.849,
Set14 27.25 dB / 0.745 (x4, Y, shave 4; bicubic on Set5: 28.42 dB).
"""
from configs.srresnet_x4 import sr_config


def get_config():
  c = sr_config("espcn_x4", "espcn", crop=96, batch_size=16, total_steps=20_000)
  c.g_optimizer.learning_rate = 1e-3
  return c
