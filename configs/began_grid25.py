"""BEGAN (Berthelot et al. 2017): autoencoder D with L1 reconstruction loss, equilibrium k_t (gamma =
0.5, lambda_k = 0.001, k_0 = 0); logs k_t and the convergence measure M_global. On the grid of 25 Gaussians.

  python -m launch.train --config configs/began_grid25.py --workdir workdirs/began_grid25
  python -m launch.evaluate --workdir workdirs/began_grid25
"""
from configs import began_ring8


def get_config():
  return began_ring8.get_config("grid25")
