"""Conditional GAN (Mirza & Osindero 2014): G gets [z, one-hot y], D gets [x, y]; labels from the data (for
ring8: the mode index). The nsgan MLPs on ring8, the DCGAN backbone on Fashion-MNIST.

  python -m launch.train --config configs/cgan.py:fashion_mnist --workdir workdirs/cgan_fashion_mnist
  python -m launch.train --config configs/cgan.py:ring8 --workdir workdirs/cgan_ring8
  (datasets: ring8 (default), fashion_mnist)

Result: a Fashion-MNIST sample grid after 1,000 steps (launch.gan_table, 2026-11-23, 2-core CPU) in the README.
"""
from configs import common

DATASETS = ("ring8", "fashion_mnist")


def settings(c):
  """This variant's options, on top of any GAN config."""
  c.variant = "cgan"
  return c


def get_config(dataset: str = "ring8"):
  common.check_dataset("cgan.py", dataset, DATASETS)
  if dataset == "fashion_mnist":
    return common.dcgan_fashion_mnist("cgan_fashion_mnist", settings)
  return common.mixture_gan(f"cgan_{dataset}", dataset, settings)
