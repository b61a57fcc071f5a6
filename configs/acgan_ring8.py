"""AC-GAN (Odena et al. 2017, eq. 2-3): G gets the label; D has a class head trained on real and fake
(L_C), G maximises L_C - L_S (non-saturating L_S). On the ring of 8 Gaussians.

  python -m launch.train --config configs/acgan_ring8.py --workdir workdirs/acgan_ring8
  python -m launch.evaluate --workdir workdirs/acgan_ring8

`variant(c)` sets this variant's keys on any GAN config; the grid25 and Fashion-MNIST configs reuse it.
"""
from configs import nsgan_ring8


def variant(c):
  """This variant's loss / penalty / options, on top of any GAN config."""
  c.variant = "acgan"
  c.aux_weight = 1.0
  return c


def get_config():
  c = variant(nsgan_ring8.get_config())
  c.experiment = "acgan_ring8"
  return c
