"""AC-GAN (Odena et al. 2017, eq. 2-3): G gets the label; D has a class head trained on real and fake
(L_C), G maximises L_C - L_S (non-saturating L_S). DCGAN backbone on Fashion-MNIST.

  python -m launch.train --config configs/acgan_fashion_mnist.py --workdir workdirs/acgan_fashion_mnist
"""
from configs import acgan_ring8, dcgan_fashion_mnist


def get_config():
  c = acgan_ring8.variant(dcgan_fashion_mnist.get_config())
  c.experiment = "acgan_fashion_mnist"
  return c
