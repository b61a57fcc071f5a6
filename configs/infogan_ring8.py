"""InfoGAN (Chen et al. 2016, sec. 5): a categorical and continuous codes; Q head sharing D's body;
lambda L_I added to G's and Q's losses (lambda = 1). On the ring of 8 Gaussians.

  python -m launch.train --config configs/infogan_ring8.py --workdir workdirs/infogan_ring8
  python -m launch.evaluate --workdir workdirs/infogan_ring8

`variant(c)` sets this variant's keys on any GAN config; the grid25 and Fashion-MNIST configs reuse it.
"""
from configs import nsgan_ring8


def variant(c):
  """This variant's loss / penalty / options, on top of any GAN config."""
  c.variant = "infogan"
  c.aux_weight = 1.0
  return c


def get_config():
  c = variant(nsgan_ring8.get_config())
  c.experiment = "infogan_ring8"
  c.info.categories = 8  # one per mode
  c.info.continuous = 1
  return c
