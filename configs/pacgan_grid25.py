"""PacGAN2 (Lin et al. 2018): the non-saturating GAN whose D sees m = 2 samples concatenated on the
feature/channel axis (any m dividing batch_size; any loss). On the grid of 25 Gaussians.

  python -m launch.train --config configs/pacgan_grid25.py --workdir workdirs/pacgan_grid25
  python -m launch.evaluate --workdir workdirs/pacgan_grid25

Measured (launch.gan_table, seeds 0/1/2, EMA samples, 2,500 points): modes 24/25/21, high quality
71.5/63.9/64.0%, reverse KL 0.270/0.061/0.415, 1.34-1.50 CPU min per run (one core).
"""
from configs import pacgan_ring8


def get_config():
  return pacgan_ring8.get_config("grid25")
