"""DRAGAN (Kodali et al. 2017): the standard (non-saturating) GAN loss plus lambda = 10 times the
gradient penalty around perturbed real data (c = 0.5). DCGAN backbone on Fashion-MNIST.

  python -m launch.train --config configs/dragan_fashion_mnist.py --workdir workdirs/dragan_fashion_mnist
"""
from configs import dcgan_fashion_mnist, dragan_ring8


def get_config():
  c = dragan_ring8.variant(dcgan_fashion_mnist.get_config())
  c.experiment = "dragan_fashion_mnist"
  return c
