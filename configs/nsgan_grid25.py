"""Non-saturating GAN (Goodfellow et al. 2014, sec. 3) with MLPs on the PacGAN grid of 25 Gaussians.

  python -m launch.train --config configs/nsgan_grid25.py --workdir workdirs/nsgan_grid25
  python -m launch.evaluate --workdir workdirs/nsgan_grid25

Measured (launch.gan_table, seeds 0/1/2, EMA samples, 2,500 points): modes 25/21/25, high quality
95.4/96.3/95.9%, reverse KL 0.009/0.214/0.045, 1.67-1.76 CPU min per run (one core).
"""
from configs import nsgan_ring8


def get_config():
  return nsgan_ring8.get_config("grid25")
