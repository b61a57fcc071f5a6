"""PacGAN2 (Lin et al. 2018, sec. 5.2): the DCGAN of configs/dcgan_stacked_mnist.py whose discriminator sees
m = 2 samples stacked on the channel axis, on Stacked MNIST (1,000 modes).

  python -m launch.train --config configs/pacgan_stacked_mnist.py --workdir workdirs/pacgan_stacked_mnist
  python -m launch.stacked_mnist_modes --workdir workdirs/pacgan_stacked_mnist --classifier workdirs/lenet5_mnist_5k
"""
from configs import common, dcgan_stacked_mnist, pacgan


def get_config():
  return dcgan_stacked_mnist.stacked_mnist(pacgan.settings(common.gan_config()), "pacgan_stacked_mnist")
