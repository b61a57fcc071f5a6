"""Minimax GAN (Goodfellow et al. 2014, Alg. 1): k D steps per G step (k = n_critic = 1 as in their
experiments), G minimises log(1 - D(G(z))). On the ring of 8 Gaussians.

  python -m launch.train --config configs/gan_ring8.py --workdir workdirs/gan_ring8
  python -m launch.evaluate --workdir workdirs/gan_ring8

`variant(c)` sets this variant's keys on any GAN config; the grid25 and Fashion-MNIST configs reuse it.
"""
from configs import common, nsgan_ring8


def variant(c):
  """This variant's loss / penalty / options, on top of any GAN config."""
  c.loss = "minimax"
  c.n_critic = 1  # k in Alg. 1
  return c


def get_config():
  c = variant(nsgan_ring8.get_config())
  c.experiment = "gan_ring8"
  return c
