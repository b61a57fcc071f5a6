"""SNGAN (Miyato et al. 2018): spectral normalisation of every D layer (power-iteration state in D's
batch_stats) and the hinge loss (eq. 16-17). DCGAN backbone on Fashion-MNIST.

  python -m launch.train --config configs/sngan_fashion_mnist.py --workdir workdirs/sngan_fashion_mnist
"""
from configs import dcgan_fashion_mnist, sngan_ring8


def get_config():
  c = sngan_ring8.variant(dcgan_fashion_mnist.get_config())
  c.experiment = "sngan_fashion_mnist"
  return c
