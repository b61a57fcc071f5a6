"""BEGAN (Berthelot et al. 2017): autoencoder D with L1 reconstruction loss, equilibrium k_t (gamma = 0.5,
lambda_k = 0.001, k_0 = 0); logs k_t and the convergence measure M_global. MLPs on the 2-D mixtures, a
narrow DCGAN backbone with Adam(1e-4) (sec. 4) on Fashion-MNIST.

  python -m launch.train --config configs/began.py:ring8 --workdir workdirs/began_ring8
  python -m launch.evaluate --workdir workdirs/began_ring8
  (datasets: ring8 (default), grid25, fashion_mnist)

Result (launch.gan_table, 2-core CPU; README and docs/performance.md): ring8 2026-11-23, seeds 0-2: 0.3/8
modes on average, 8.8% high quality; grid25 2026-12-02, seeds 0-1: 5/25 and 3/25 modes, 91.6-95.9%.
"""
from configs import common

DATASETS = ("ring8", "grid25", "fashion_mnist")


def settings(c):
  """This variant's loss, model and options, on top of any GAN config."""
  c.loss = "began"
  c.model.name = "began"
  c.began.gamma = 0.5
  c.began.lambda_k = 0.001
  return c


def get_config(dataset: str = "ring8"):
  common.check_dataset("began.py", dataset, DATASETS)
  if dataset == "fashion_mnist":
    c = common.dcgan_fashion_mnist("began_fashion_mnist", settings)
    c.model.g_width = c.model.d_width = 32
    c.model.z_dim = 64
    c.model.h_dim = 64
    c.g_optimizer = common.optimizer("adam", 1e-4, b1=0.5, b2=0.999)  # sec. 4
    c.d_optimizer = common.optimizer("adam", 1e-4, b1=0.5, b2=0.999)
    return c
  # batch 256: keeps a ring8 run near a CPU minute.
  c = common.mixture_gan(f"began_{dataset}", dataset, settings, batch_size=256)
  c.model.h_dim = 8
  return c
