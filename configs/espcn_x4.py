"""ESPCN (Shi et al. 2016, sec. 3.2) at x4 on RGB: convolutions at LR, a sub-pixel shuffle at the end, MSE.

  python -m launch.train --config configs/espcn_x4.py --workdir workdirs/espcn_x4
  python -m launch.evaluate --workdir workdirs/espcn_x4
"""
from configs import super_resolution


def get_config():
  c = super_resolution.sr_config("espcn_x4", "espcn", crop=96, batch_size=16, total_steps=20_000)
  c.g_optimizer.learning_rate = 1e-3
  return c
