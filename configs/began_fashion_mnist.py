"""BEGAN (Berthelot et al. 2017): autoencoder D with L1 reconstruction loss, equilibrium k_t (gamma =
0.5, lambda_k = 0.001, k_0 = 0); logs k_t and the convergence measure M_global. DCGAN backbone on Fashion-MNIST.

  python -m launch.train --config configs/began_fashion_mnist.py --workdir workdirs/began_fashion_mnist
"""
from configs import began_ring8, common, dcgan_fashion_mnist


def get_config():
  c = began_ring8.variant(dcgan_fashion_mnist.get_config())
  c.experiment = "began_fashion_mnist"
  c.model.g_width = c.model.d_width = 32
  c.model.z_dim = 64
  c.model.h_dim = 64
  c.g_optimizer = common.optimizer("adam", 1e-4, b1=0.5, b2=0.999)  # sec. 4
  c.d_optimizer = common.optimizer("adam", 1e-4, b1=0.5, b2=0.999)
  return c
