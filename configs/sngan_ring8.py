"""SNGAN (Miyato et al. 2018): spectral normalisation of every D layer (power-iteration state in D's
batch_stats) and the hinge loss (eq. 16-17). On the ring of 8 Gaussians.

  python -m launch.train --config configs/sngan_ring8.py --workdir workdirs/sngan_ring8
  python -m launch.evaluate --workdir workdirs/sngan_ring8

`variant(c)` sets this variant's keys on any GAN config; the grid25 and Fashion-MNIST configs reuse it.
"""
from configs import common, nsgan_ring8


def variant(c):
  """This variant's loss / penalty / options, on top of any GAN config."""
  c.loss = "hinge"
  c.model.spectral_norm = True
  return c


def get_config():
  c = variant(nsgan_ring8.get_config())
  c.experiment = "sngan_ring8"
  return c
