"""PacGAN2 (Lin et al. 2018): the non-saturating GAN whose D sees m = 2 samples concatenated on the
feature/channel axis (any m dividing batch_size; any loss). DCGAN backbone on Fashion-MNIST.

  python -m launch.train --config configs/pacgan_fashion_mnist.py --workdir workdirs/pacgan_fashion_mnist
"""
from configs import dcgan_fashion_mnist, pacgan_ring8


def get_config():
  c = pacgan_ring8.variant(dcgan_fashion_mnist.get_config())
  c.experiment = "pacgan_fashion_mnist"
  return c
