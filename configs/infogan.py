"""InfoGAN (Chen et al. 2016, sec. 5): categorical and continuous codes; a Q head sharing D's body; lambda L_I
added to G's and Q's losses (lambda = 1). The nsgan MLPs on ring8 (one category per mode), the DCGAN backbone
on Fashion-MNIST (z_dim 62, sec. C.1).

  python -m launch.train --config configs/infogan.py:fashion_mnist --workdir workdirs/infogan_fashion_mnist
  python -m launch.train --config configs/infogan.py:ring8 --workdir workdirs/infogan_ring8
  (datasets: ring8 (default), fashion_mnist)

Result: a Fashion-MNIST sample grid after 1,000 steps (launch.gan_table, 2026-11-23, 2-core CPU) in the README.
"""
from configs import common

DATASETS = ("ring8", "fashion_mnist")


def settings(c):
  """This variant's options, on top of any GAN config."""
  c.variant = "infogan"
  c.aux_weight = 1.0
  return c


def get_config(dataset: str = "ring8"):
  common.check_dataset("infogan.py", dataset, DATASETS)
  if dataset == "fashion_mnist":
    c = common.dcgan_fashion_mnist("infogan_fashion_mnist", settings)
    c.model.z_dim = 62  # Chen et al. 2016, sec. C.1 (MNIST)
    return c
  c = common.mixture_gan(f"infogan_{dataset}", dataset, settings)
  c.info.categories = 8  # one per mode
  c.info.continuous = 1
  return c
