"""Minimax GAN (Goodfellow et al. 2014, Alg. 1): k D steps per G step (k = n_critic = 1 as in their
experiments), G minimises log(1 - D(G(z))). DCGAN backbone on Fashion-MNIST.

  python -m launch.train --config configs/gan_fashion_mnist.py --workdir workdirs/gan_fashion_mnist
"""
from configs import dcgan_fashion_mnist, gan_ring8


def get_config():
  c = gan_ring8.variant(dcgan_fashion_mnist.get_config())
  c.experiment = "gan_fashion_mnist"
  return c
