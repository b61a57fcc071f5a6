"""SNGAN (Miyato et al. 2018): spectral normalisation of every D layer (power-iteration state in D's
batch_stats) and the hinge loss (eq. 16-17). MLPs on the 2-D mixtures (n_dis = 5), the DCGAN backbone on
Fashion-MNIST.

  python -m launch.train --config configs/sngan.py:ring8 --workdir workdirs/sngan_ring8
  python -m launch.evaluate --workdir workdirs/sngan_ring8
  (datasets: ring8 (default), grid25, fashion_mnist)

Result (launch.gan_table, 2-core CPU; docs/performance.md): ring8 2026-11-23, seeds 0-2: 8/8 modes, 91.9-95.6%
high quality; grid25 2026-12-02, seed 0: 25/25 modes, 95.1%.
"""
from configs import common

DATASETS = ("ring8", "grid25", "fashion_mnist")


def settings(c):
  """This variant's loss and options, on top of any GAN config."""
  c.loss = "hinge"
  c.model.spectral_norm = True
  return c


def get_config(dataset: str = "ring8"):
  common.check_dataset("sngan.py", dataset, DATASETS)
  if dataset == "fashion_mnist":
    return common.dcgan_fashion_mnist("sngan_fashion_mnist", settings)
  # n_dis = 5 D steps per G step (Miyato et al. 2018, sec. 5): with n_dis = 1 the spectrally normalised D
  # falls behind and G collapses (ring8, seeds 0-2: 0-2/8 modes, < 1% high quality; n_dis = 5: 8/8).
  c = common.mixture_gan(f"sngan_{dataset}", dataset, settings, batch_size=256)
  c.n_critic = 5
  return c
