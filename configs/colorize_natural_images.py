"""pix2pix colourisation (Isola et al. 2017, sec. 4.2) on the offline photographs: L -> ab in CIE Lab with the
U-Net generator and the 70 x 70 PatchGAN, conditional GAN loss + 100 L1, Adam(2e-4, 0.5, 0.999), batch norm,
dropout as G's noise; random 256 x 256 crops of the 148 `natural_images` train photographs, flipped; evaluated
on Set14 (central squares at 256: PSNR / SSIM, colourfulness).

  python -m launch.train --config configs/colorize_natural_images.py --workdir workdirs/colorize
  python -m launch.translate --workdir workdirs/colorize --input photo.png --out_dir out

`paired_config()` holds the pix2pix defaults the paired configs share (the reference implementation's
option names for the networks).
"""
import ml_collections

from configs import common


def paired_config() -> ml_collections.ConfigDict:
  """pix2pix's defaults: unet_256, basic PatchGAN, batch norm, dropout, lambda_L1 100, Adam(2e-4, 0.5, 0.999)."""
  c = common._base("translation")  # pylint: disable=protected-access
  c.dataset = "natural_images"
  c.pairing = "colorize"
  c.preprocess = "random_crop_varying(256)|flip_lr|value_range(-1,1)"
  c.batch_size = 1  # the paper's batch for colourisation with batch norm (sec. 3.3)
  c.model = ml_collections.ConfigDict({"netG": "unet_256", "netD": "basic", "n_layers_D": 3, "ngf": 64,
                                       "ndf": 64, "norm": "batch", "use_dropout": True})
  c.l1_weight = 100.0
  c.gan_weight = 1.0  # 0: the L1-only generator (Isola et al. 2017, Table 1's "L1")
  c.g_optimizer = common.optimizer("adam", 2e-4, b1=0.5, b2=0.999)
  c.d_optimizer = common.optimizer("adam", 2e-4, b1=0.5, b2=0.999)
  c.eval_split = "set14"
  c.eval_size = 256  # each evaluation image's central square, resized to this
  c.eval_images = 14
  c.total_steps = 20_000
  c.log_every = 100
  c.eval_every = 2_000
  c.checkpoint_every = 1_000
  return c


def get_config():
  c = paired_config()
  c.experiment = "colorize_natural_images"
  return c
