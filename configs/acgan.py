"""AC-GAN (Odena et al. 2017, eq. 2-3): G gets the label; D has a class head trained on real and fake (L_C),
G maximises L_C - L_S (non-saturating L_S). The nsgan MLPs on ring8, the DCGAN backbone on Fashion-MNIST.

  python -m launch.train --config configs/acgan.py:fashion_mnist --workdir workdirs/acgan_fashion_mnist
  python -m launch.train --config configs/acgan.py:ring8 --workdir workdirs/acgan_ring8
  (datasets: ring8 (default), fashion_mnist)

Result: a Fashion-MNIST sample grid after 1,000 steps (launch.gan_table, 2026-11-23, 2-core CPU) in the README.
"""
from configs import common

DATASETS = ("ring8", "fashion_mnist")


def settings(c):
  """This variant's options, on top of any GAN config."""
  c.variant = "acgan"
  c.aux_weight = 1.0
  return c


def get_config(dataset: str = "ring8"):
  common.check_dataset("acgan.py", dataset, DATASETS)
  if dataset == "fashion_mnist":
    return common.dcgan_fashion_mnist("acgan_fashion_mnist", settings)
  return common.mixture_gan(f"acgan_{dataset}", dataset, settings)
