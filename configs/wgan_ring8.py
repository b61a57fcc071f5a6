"""WGAN (Arjovsky et al. 2017, Alg. 1): critic without sigmoid or log, weights clipped to [-0.01,
0.01], RMSProp(5e-5), n_critic = 5. On the ring of 8 Gaussians.

  python -m launch.train --config configs/wgan_ring8.py --workdir workdirs/wgan_ring8
  python -m launch.evaluate --workdir workdirs/wgan_ring8

`variant(c)` sets this variant's keys on any GAN config; the grid25 and Fashion-MNIST configs reuse it.
"""
from configs import common, nsgan_ring8


def variant(c):
  """This variant's loss / penalty / options, on top of any GAN config."""
  c.loss = "wasserstein"
  c.weight_clip = 0.01
  c.n_critic = 5
  c.g_optimizer = common.optimizer("rmsprop", 5e-5)
  c.d_optimizer = common.optimizer("rmsprop", 5e-5)
  return c


def get_config():
  c = variant(nsgan_ring8.get_config())
  c.experiment = "wgan_ring8"
  return c
