"""Progressive GAN (Karras et al. 2018) on Stacked MNIST (1,000 modes) at 32x32: the schedule and sizes of
configs/progan_fashion_mnist.py. Karras et al. 2018 (sec. 5.3, Table 4) report the mode count of their
networks on Stacked MNIST as evidence against mode collapse.

  python -m launch.train --config configs/progan_stacked_mnist.py --workdir workdirs/progan_stacked_mnist
  python -m launch.stacked_mnist_modes --workdir workdirs/progan_stacked_mnist --classifier workdirs/lenet5_mnist_5k
"""
from configs import progan_fashion_mnist


def get_config():
  return progan_fashion_mnist.progan_config("progan_stacked_mnist", "stacked_mnist")
