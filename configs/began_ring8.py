"""BEGAN (Berthelot et al. 2017): autoencoder D with L1 reconstruction loss, equilibrium k_t (gamma =
0.5, lambda_k = 0.001, k_0 = 0); logs k_t and the convergence measure M_global. On the ring of 8 Gaussians.

  python -m launch.train --config configs/began_ring8.py --workdir workdirs/began_ring8
  python -m launch.evaluate --workdir workdirs/began_ring8

`variant(c)` sets this variant's keys on any GAN config; the grid25 and Fashion-MNIST configs reuse it.
"""
from configs import common


def variant(c):
  """This variant's loss / penalty / options, on top of any GAN config."""
  c.loss = "began"
  c.model.name = "began"
  c.began.gamma = 0.5
  c.began.lambda_k = 0.001
  return c


def get_config(dataset: str = "ring8"):
  # batch 256: keeps the run near a CPU minute.
  c = common.mixture_gan(f"began_{dataset}", dataset, variant, batch_size=256)
  c.model.h_dim = 8
  return c
