"""DCGAN (Radford et al. 2016) on Fashion-MNIST, 28x28 (or 64x64 with --config.image_size=64).

  python -m launch.train --config configs/dcgan_fashion_mnist.py --workdir workdirs/dcgan_fashion_mnist

Result: (filled in from the recorded run below.)
"""
from configs import common


def get_config():
  c = common.gan_config()
  c.experiment = "dcgan_fashion_mnist"
  c.dataset = "fashion_mnist"
  c.image_size = 28
  c.total_steps = 6_000
  c.log_every = 100
  c.eval_every = 1_000
  c.checkpoint_every = 1_000
  return c
