"""InfoGAN (Chen et al. 2016, sec. 5): a categorical and continuous codes; Q head sharing D's body;
lambda L_I added to G's and Q's losses (lambda = 1). DCGAN backbone on Fashion-MNIST.

  python -m launch.train --config configs/infogan_fashion_mnist.py --workdir workdirs/infogan_fashion_mnist
"""
from configs import dcgan_fashion_mnist, infogan_ring8


def get_config():
  c = infogan_ring8.variant(dcgan_fashion_mnist.get_config())
  c.experiment = "infogan_fashion_mnist"
  c.model.z_dim = 62  # Chen et al. 2016, sec. C.1 (MNIST)
  return c
