"""WGAN (Arjovsky et al. 2017, Alg. 1): critic without sigmoid or log, weights clipped to [-0.01,
0.01], RMSProp(5e-5), n_critic = 5. DCGAN backbone on Fashion-MNIST.

  python -m launch.train --config configs/wgan_fashion_mnist.py --workdir workdirs/wgan_fashion_mnist
"""
from configs import dcgan_fashion_mnist, wgan_ring8


def get_config():
  c = wgan_ring8.variant(dcgan_fashion_mnist.get_config())
  c.experiment = "wgan_fashion_mnist"
  return c
