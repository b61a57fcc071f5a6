"""WGAN-GP (Gulrajani et al. 2017, Alg. 1): per-sample gradient penalty on random interpolates, lambda
= 10, Adam(1e-4, 0, 0.9), n_critic = 5, no BatchNorm in the critic. On the grid of 25 Gaussians.

  python -m launch.train --config configs/wgan_gp_grid25.py --workdir workdirs/wgan_gp_grid25
  python -m launch.evaluate --workdir workdirs/wgan_gp_grid25
"""
from configs import wgan_gp_ring8


def get_config():
  return wgan_gp_ring8.get_config("grid25")
