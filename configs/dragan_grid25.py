"""DRAGAN (Kodali et al. 2017): the standard (non-saturating) GAN loss plus lambda = 10 times the
gradient penalty around perturbed real data (c = 0.5). On the grid of 25 Gaussians.

  python -m launch.train --config configs/dragan_grid25.py --workdir workdirs/dragan_grid25
"""
from configs import dragan_ring8, nsgan_grid25


def get_config():
  return nsgan_grid25.to_grid25(dragan_ring8.get_config(), "dragan_grid25")
