"""SRResNet (Ledig et al. 2017, sec. 2.2, fig. 4) at x4 with the MSE loss: the PSNR-oriented network that
starts SRGAN (configs/srgan_x4.py). 16 residual blocks of 64 channels as the paper; crops of 96 as the
paper, batch 4 (the paper's is 16) to fit two CPU cores.

  python -m launch.train --config configs/srresnet_x4.py --workdir workdirs/srresnet_x4
"""
from configs import super_resolution


def get_config():
  return super_resolution.sr_config("srresnet_x4", "srresnet", crop=96, batch_size=4, total_steps=20_000,
                                    n_blocks=16, n_channels=64)
