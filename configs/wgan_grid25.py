"""WGAN (Arjovsky et al. 2017, Alg. 1): critic without sigmoid or log, weights clipped to [-0.01,
0.01], RMSProp(5e-5), n_critic = 5. On the grid of 25 Gaussians.

  python -m launch.train --config configs/wgan_grid25.py --workdir workdirs/wgan_grid25
  python -m launch.evaluate --workdir workdirs/wgan_grid25
"""
from configs import wgan_ring8


def get_config():
  return wgan_ring8.get_config("grid25")
