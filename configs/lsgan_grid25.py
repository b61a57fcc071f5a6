"""Least-squares GAN (Mao et al. 2017): 0-1 coding a = 0 (fake), b = 1 (real), c = 1 (G's target), eq.
9. On the grid of 25 Gaussians.

  python -m launch.train --config configs/lsgan_grid25.py --workdir workdirs/lsgan_grid25
  python -m launch.evaluate --workdir workdirs/lsgan_grid25

Measured 2026-12-02 (launch.gan_table, seeds 0/1, EMA samples, 2,500 points): modes 22/23 of 25, high
quality 94.3/95.0%, reverse KL 0.127/0.164, 9.8-9.8 CPU min per run (4-6 runs sharing 2 cores).
"""
from configs import lsgan_ring8


def get_config():
  return lsgan_ring8.get_config("grid25")
