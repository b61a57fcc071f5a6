"""Minimax GAN (Goodfellow et al. 2014, Alg. 1): k D steps per G step (k = n_critic = 1 as in their
experiments), G minimises log(1 - D(G(z))). On the grid of 25 Gaussians.

  python -m launch.train --config configs/gan_grid25.py --workdir workdirs/gan_grid25
  python -m launch.evaluate --workdir workdirs/gan_grid25
"""
from configs import gan_ring8


def get_config():
  return gan_ring8.get_config("grid25")
