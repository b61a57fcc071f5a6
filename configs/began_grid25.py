"""BEGAN (Berthelot et al. 2017): autoencoder D with L1 reconstruction loss, equilibrium k_t (gamma =
0.5, lambda_k = 0.001, k_0 = 0); logs k_t and the convergence measure M_global. On the grid of 25 Gaussians.

  python -m launch.train --config configs/began_grid25.py --workdir workdirs/began_grid25
  python -m launch.evaluate --workdir workdirs/began_grid25

Measured 2026-12-02 (launch.gan_table, seeds 0/1, EMA samples, 2,500 points): modes 5/3 of 25, high quality
91.6/95.9%, reverse KL 2.164/2.432, 10.2-10.5 CPU min per run (4-6 runs sharing 2 cores).
"""
from configs import began_ring8


def get_config():
  return began_ring8.get_config("grid25")
