"""SNGAN (Miyato et al. 2018): spectral normalisation of every D layer (power-iteration state in D's
batch_stats) and the hinge loss (eq. 16-17). On the grid of 25 Gaussians.

  python -m launch.train --config configs/sngan_grid25.py --workdir workdirs/sngan_grid25
"""
from configs import sngan_ring8, nsgan_grid25


def get_config():
  return nsgan_grid25.to_grid25(sngan_ring8.get_config(), "sngan_grid25")
