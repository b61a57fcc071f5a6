"""StyleGAN2 (Karras et al. 2020) on Stacked MNIST (1,000 modes) at 32x32: the settings of
configs/stylegan2_fashion_mnist.py.

  python -m launch.train --config configs/stylegan2_stacked_mnist.py --workdir workdirs/stylegan2_stacked_mnist
  python -m launch.stacked_mnist_modes --workdir workdirs/stylegan2_stacked_mnist --classifier workdirs/lenet5_mnist_5k
"""
from configs import stylegan2_fashion_mnist


def get_config():
  return stylegan2_fashion_mnist.stylegan2_config("stylegan2_stacked_mnist", "stacked_mnist")
