"""DCGAN (Radford et al. 2016) with the non-saturating loss on Stacked MNIST (three mnist_5k digits as the RGB
channels: 1,000 modes; Metz et al. 2017, sec. 3.3.2), the baseline of PacGAN's mode-collapse benchmark (Lin et
al. 2018, sec. 5.2, Table 3), at 28x28.

  python -m launch.train --config configs/lenet5_mnist_5k.py --workdir workdirs/lenet5_mnist_5k  # the counter
  python -m launch.train --config configs/dcgan_stacked_mnist.py --workdir workdirs/dcgan_stacked_mnist
  python -m launch.stacked_mnist_modes --workdir workdirs/dcgan_stacked_mnist --classifier workdirs/lenet5_mnist_5k
"""
from configs import common


def stacked_mnist(c, experiment: str):
  """A GAN config moved to Stacked MNIST at 28x28 for 6,000 steps."""
  c.experiment, c.dataset = experiment, "stacked_mnist"
  c.image_size = 28
  c.total_steps = 6_000
  c.log_every = 100
  c.eval_every = c.checkpoint_every = 1_000
  return c


def get_config():
  return stacked_mnist(common.gan_config(), "dcgan_stacked_mnist")
