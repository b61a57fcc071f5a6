"""PacGAN2 (Lin et al. 2018): the non-saturating GAN whose D sees m = 2 samples concatenated on the
feature/channel axis (any m dividing batch_size; any loss). On the grid of 25 Gaussians.

  python -m launch.train --config configs/pacgan_grid25.py --workdir workdirs/pacgan_grid25
"""
from configs import pacgan_ring8, nsgan_grid25


def get_config():
  return nsgan_grid25.to_grid25(pacgan_ring8.get_config(), "pacgan_grid25")
