"""WGAN-GP (Gulrajani et al. 2017, Alg. 1): per-sample gradient penalty on random interpolates, lambda
= 10, Adam(1e-4, 0, 0.9), n_critic = 5, no BatchNorm in the critic. DCGAN backbone on Fashion-MNIST.

  python -m launch.train --config configs/wgan_gp_fashion_mnist.py --workdir workdirs/wgan_gp_fashion_mnist
"""
from configs import dcgan_fashion_mnist, wgan_gp_ring8


def get_config():
  c = wgan_gp_ring8.variant(dcgan_fashion_mnist.get_config())
  c.experiment = "wgan_gp_fashion_mnist"
  return c
