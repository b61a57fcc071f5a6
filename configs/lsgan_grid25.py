"""Least-squares GAN (Mao et al. 2017): 0-1 coding a = 0 (fake), b = 1 (real), c = 1 (G's target), eq.
9. On the grid of 25 Gaussians.

  python -m launch.train --config configs/lsgan_grid25.py --workdir workdirs/lsgan_grid25
  python -m launch.evaluate --workdir workdirs/lsgan_grid25
"""
from configs import lsgan_ring8


def get_config():
  return lsgan_ring8.get_config("grid25")
