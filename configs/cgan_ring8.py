"""Conditional GAN (Mirza & Osindero 2014): G gets [z, one-hot y], D gets [x, y]; labels from the data
(for the 2-D mixtures: the mode index). On the ring of 8 Gaussians.

  python -m launch.train --config configs/cgan_ring8.py --workdir workdirs/cgan_ring8
  python -m launch.evaluate --workdir workdirs/cgan_ring8

`variant(c)` sets this variant's keys on any GAN config; the grid25 and Fashion-MNIST configs reuse it.
"""
from configs import nsgan_ring8


def variant(c):
  """This variant's loss / penalty / options, on top of any GAN config."""
  c.variant = "cgan"
  return c


def get_config():
  c = variant(nsgan_ring8.get_config())
  c.experiment = "cgan_ring8"
  return c
