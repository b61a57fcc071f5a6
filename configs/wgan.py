"""WGAN (Arjovsky et al. 2017, Alg. 1): critic without sigmoid or log, weights clipped to [-0.01, 0.01],
RMSProp(5e-5), n_critic = 5. MLPs on the 2-D mixtures, the DCGAN backbone on Fashion-MNIST.

  python -m launch.train --config configs/wgan.py:ring8 --workdir workdirs/wgan_ring8
  python -m launch.evaluate --workdir workdirs/wgan_ring8
  (datasets: ring8 (default), grid25, fashion_mnist)

Result (launch.gan_table, 2-core CPU; docs/performance.md): ring8 2026-11-23, seeds 0-2: 4-7/8 modes, 0.3-1.0%
high quality; grid25 2026-12-02, seed 0: 18/25 modes, 5.8%.
"""
from configs import common

DATASETS = ("ring8", "grid25", "fashion_mnist")


def settings(c):
  """This variant's loss, optimizers and options, on top of any GAN config."""
  c.loss = "wasserstein"
  c.weight_clip = 0.01
  c.n_critic = 5
  c.g_optimizer = common.optimizer("rmsprop", 5e-5)
  c.d_optimizer = common.optimizer("rmsprop", 5e-5)
  return c


def get_config(dataset: str = "ring8"):
  common.check_dataset("wgan.py", dataset, DATASETS)
  if dataset == "fashion_mnist":
    return common.dcgan_fashion_mnist("wgan_fashion_mnist", settings)
  # batch 256: with n_critic = 5 it keeps a ring8 run near a CPU minute.
  return common.mixture_gan(f"wgan_{dataset}", dataset, settings, batch_size=256)
