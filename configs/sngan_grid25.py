"""SNGAN (Miyato et al. 2018): spectral normalisation of every D layer (power-iteration state in D's
batch_stats) and the hinge loss (eq. 16-17). On the grid of 25 Gaussians.

  python -m launch.train --config configs/sngan_grid25.py --workdir workdirs/sngan_grid25
  python -m launch.evaluate --workdir workdirs/sngan_grid25
"""
from configs import sngan_ring8


def get_config():
  return sngan_ring8.get_config("grid25")
