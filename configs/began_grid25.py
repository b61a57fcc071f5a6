"""BEGAN (Berthelot et al. 2017): autoencoder D with L1 reconstruction loss, equilibrium k_t (gamma =
0.5, lambda_k = 0.001, k_0 = 0); logs k_t and the convergence measure M_global. On the grid of 25 Gaussians.

  python -m launch.train --config configs/began_grid25.py --workdir workdirs/began_grid25
"""
from configs import began_ring8, nsgan_grid25


def get_config():
  return nsgan_grid25.to_grid25(began_ring8.get_config(), "began_grid25")
