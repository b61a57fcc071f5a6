"""WGAN (Arjovsky et al. 2017, Alg. 1): critic without sigmoid or log, weights clipped to [-0.01,
0.01], RMSProp(5e-5), n_critic = 5. On the ring of 8 Gaussians.

  python -m launch.train --config configs/wgan_ring8.py --workdir workdirs/wgan_ring8
  python -m launch.evaluate --workdir workdirs/wgan_ring8

`variant(c)` sets this variant's keys on any GAN config; the grid25 and Fashion-MNIST configs reuse it.

Measured (launch.gan_table, seeds 0/1/2, EMA samples, 2,500 points): modes 4/6/7, high quality 0.6/0.3/1.0%,
reverse KL 0.093/0.027/0.015, 1.13-1.40 CPU min per run (one core).
"""
from configs import common


def variant(c):
  """This variant's loss / penalty / options, on top of any GAN config."""
  c.loss = "wasserstein"
  c.weight_clip = 0.01
  c.n_critic = 5
  c.g_optimizer = common.optimizer("rmsprop", 5e-5)
  c.d_optimizer = common.optimizer("rmsprop", 5e-5)
  return c


def get_config(dataset: str = "ring8"):
  # batch 256: n_critic = 5: keeps the run near a CPU minute.
  c = common.mixture_gan(f"wgan_{dataset}", dataset, variant, batch_size=256)
  return c
