"""Least-squares GAN (Mao et al. 2017): 0-1 coding a = 0 (fake), b = 1 (real), c = 1 (G's target), eq.
9. DCGAN backbone on Fashion-MNIST.

  python -m launch.train --config configs/lsgan_fashion_mnist.py --workdir workdirs/lsgan_fashion_mnist
"""
from configs import dcgan_fashion_mnist, lsgan_ring8


def get_config():
  c = lsgan_ring8.variant(dcgan_fashion_mnist.get_config())
  c.experiment = "lsgan_fashion_mnist"
  return c
