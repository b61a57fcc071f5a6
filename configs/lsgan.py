"""Least-squares GAN (Mao et al. 2017, eq. 9): 0-1 coding a = 0 (fake), b = 1 (real), c = 1 (G's target).
MLPs on the 2-D mixtures, the DCGAN backbone on Fashion-MNIST.

  python -m launch.train --config configs/lsgan.py:ring8 --workdir workdirs/lsgan_ring8
  python -m launch.evaluate --workdir workdirs/lsgan_ring8
  (datasets: ring8 (default), grid25, fashion_mnist)

Result (launch.gan_table, 2-core CPU; docs/performance.md): ring8 2026-11-23, seeds 0-2: 8/8 modes, 96.5-97.8%
high quality; grid25 2026-12-02, seeds 0-1: 22/25 and 23/25 modes, 94.3-95.0%.
"""
import ml_collections

from configs import common

DATASETS = ("ring8", "grid25", "fashion_mnist")


def settings(c):
  """This variant's loss and options, on top of any GAN config."""
  c.loss = "lsgan"
  c.loss_options = ml_collections.ConfigDict({"a": 0.0, "b": 1.0, "c": 1.0})
  return c


def get_config(dataset: str = "ring8"):
  common.check_dataset("lsgan.py", dataset, DATASETS)
  if dataset == "fashion_mnist":
    return common.dcgan_fashion_mnist("lsgan_fashion_mnist", settings)
  return common.mixture_gan(f"lsgan_{dataset}", dataset, settings)
