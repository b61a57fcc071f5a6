"""Least-squares GAN (Mao et al. 2017): 0-1 coding a = 0 (fake), b = 1 (real), c = 1 (G's target), eq.
9. On the grid of 25 Gaussians.

  python -m launch.train --config configs/lsgan_grid25.py --workdir workdirs/lsgan_grid25
"""
from configs import lsgan_ring8, nsgan_grid25


def get_config():
  return nsgan_grid25.to_grid25(lsgan_ring8.get_config(), "lsgan_grid25")
