"""WGAN-GP (Gulrajani et al. 2017, Alg. 1): per-sample gradient penalty on random interpolates, lambda
= 10, Adam(1e-4, 0, 0.9), n_critic = 5, no BatchNorm in the critic. On the ring of 8 Gaussians.

  python -m launch.train --config configs/wgan_gp_ring8.py --workdir workdirs/wgan_gp_ring8
  python -m launch.evaluate --workdir workdirs/wgan_gp_ring8

`variant(c)` sets this variant's keys on any GAN config; the grid25 and Fashion-MNIST configs reuse it.
"""
from configs import common, nsgan_ring8


def variant(c):
  """This variant's loss / penalty / options, on top of any GAN config."""
  c.loss = "wasserstein"
  c.penalty = "gradient_penalty"
  c.penalty_weight = 10.0
  c.n_critic = 5
  c.model.d_batch_norm = False
  c.g_optimizer = common.optimizer("adam", 1e-4, b1=0.0, b2=0.9)
  c.d_optimizer = common.optimizer("adam", 1e-4, b1=0.0, b2=0.9)
  return c


def get_config():
  c = variant(nsgan_ring8.get_config())
  c.experiment = "wgan_gp_ring8"
  return c
