"""PacGAN2 (Lin et al. 2018): the non-saturating GAN whose D sees m = 2 samples concatenated on the
feature/channel axis (any m dividing batch_size; any loss). On the grid of 25 Gaussians.

  python -m launch.train --config configs/pacgan_grid25.py --workdir workdirs/pacgan_grid25
  python -m launch.evaluate --workdir workdirs/pacgan_grid25

Measured 2026-12-02 (launch.gan_table, seeds 0/1, EMA samples, 2,500 points): modes 24/19 of 25, high
quality 88.2/88.7%, reverse KL 0.075/0.253, 7.2-7.4 CPU min per run (4-6 runs sharing 2 cores).
"""
from configs import pacgan_ring8


def get_config():
  return pacgan_ring8.get_config("grid25")
