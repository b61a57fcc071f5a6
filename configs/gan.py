"""Minimax GAN (Goodfellow et al. 2014, Alg. 1): k D steps per G step (k = n_critic = 1 as in their
experiments), G minimises log(1 - D(G(z))). MLPs on the 2-D mixtures, the DCGAN backbone on Fashion-MNIST.

  python -m launch.train --config configs/gan.py:ring8 --workdir workdirs/gan_ring8
  python -m launch.evaluate --workdir workdirs/gan_ring8
  (datasets: ring8 (default), grid25, fashion_mnist)

Result (launch.gan_table, 2-core CPU; docs/performance.md): ring8 2026-11-23, seeds 0-2: 8/8 modes, 96.2-97.3%
high quality; grid25 2026-12-02, seeds 0-1: 25/25 modes, 93.2-96.4%.
"""
from configs import common

DATASETS = ("ring8", "grid25", "fashion_mnist")


def settings(c):
  """This variant's loss and options, on top of any GAN config."""
  c.loss = "minimax"
  c.n_critic = 1  # k in Alg. 1
  return c


def get_config(dataset: str = "ring8"):
  common.check_dataset("gan.py", dataset, DATASETS)
  if dataset == "fashion_mnist":
    return common.dcgan_fashion_mnist("gan_fashion_mnist", settings)
  return common.mixture_gan(f"gan_{dataset}", dataset, settings)
