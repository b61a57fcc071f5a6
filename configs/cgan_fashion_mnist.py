"""Conditional GAN (Mirza & Osindero 2014): G gets [z, one-hot y], D gets [x, y]; labels from the data
(for the 2-D mixtures: the mode index). DCGAN backbone on Fashion-MNIST.

  python -m launch.train --config configs/cgan_fashion_mnist.py --workdir workdirs/cgan_fashion_mnist
"""
from configs import cgan_ring8, dcgan_fashion_mnist


def get_config():
  c = cgan_ring8.variant(dcgan_fashion_mnist.get_config())
  c.experiment = "cgan_fashion_mnist"
  return c
