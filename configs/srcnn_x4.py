"""SRCNN 9-1-5 (Dong et al. 2014, sec. 3) at x4 on RGB: the bicubic-upscaled LR image in, MSE loss.

  python -m launch.train --config configs/srcnn_x4.py --workdir workdirs/srcnn_x4
  python -m launch.evaluate --workdir workdirs/srcnn_x4
"""
from configs.srresnet_x4 import sr_config


def get_config():
  c = sr_config("srcnn_x4", "srcnn", crop=64, batch_size=16, total_steps=20_000)
  c.g_optimizer.learning_rate = 3e-4
  return c
