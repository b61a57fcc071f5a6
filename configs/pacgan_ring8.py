"""PacGAN2 (Lin et al. 2018): the non-saturating GAN whose D sees m = 2 samples concatenated on the
feature/channel axis (any m dividing batch_size; any loss). On the ring of 8 Gaussians.

  python -m launch.train --config configs/pacgan_ring8.py --workdir workdirs/pacgan_ring8
  python -m launch.evaluate --workdir workdirs/pacgan_ring8

`variant(c)` sets this variant's keys on any GAN config; the grid25 and Fashion-MNIST configs reuse it.
"""
from configs import common, nsgan_ring8


def variant(c):
  """This variant's loss / penalty / options, on top of any GAN config."""
  c.loss = "nsgan"
  c.pack = 2
  return c


def get_config():
  c = variant(nsgan_ring8.get_config())
  c.experiment = "pacgan_ring8"
  return c
