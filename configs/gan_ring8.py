"""Minimax GAN (Goodfellow et al. 2014, Alg. 1): k D steps per G step (k = n_critic = 1 as in their
experiments), G minimises log(1 - D(G(z))). On the ring of 8 Gaussians.

  python -m launch.train --config configs/gan_ring8.py --workdir workdirs/gan_ring8
  python -m launch.evaluate --workdir workdirs/gan_ring8

`variant(c)` sets this variant's keys on any GAN config; the grid25 and Fashion-MNIST configs reuse it.

Measured (launch.gan_table, seeds 0/1/2, EMA samples, 2,500 points): modes 8/8/8, high quality
96.2/96.6/97.3%, reverse KL 0.001/0.003/0.001, 0.63-0.65 CPU min per run (one core).
"""
from configs import common


def variant(c):
  """This variant's loss / penalty / options, on top of any GAN config."""
  c.loss = "minimax"
  c.n_critic = 1  # k in Alg. 1
  return c


def get_config(dataset: str = "ring8"):
  c = common.mixture_gan(f"gan_{dataset}", dataset, variant)
  return c
