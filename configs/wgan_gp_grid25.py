"""WGAN-GP (Gulrajani et al. 2017, Alg. 1): per-sample gradient penalty on random interpolates, lambda
= 10, Adam(1e-4, 0, 0.9), n_critic = 5, no BatchNorm in the critic. On the grid of 25 Gaussians.

  python -m launch.train --config configs/wgan_gp_grid25.py --workdir workdirs/wgan_gp_grid25
"""
from configs import wgan_gp_ring8, nsgan_grid25


def get_config():
  return nsgan_grid25.to_grid25(wgan_gp_ring8.get_config(), "wgan_gp_grid25")
