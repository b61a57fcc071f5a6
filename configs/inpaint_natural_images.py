"""Context encoder inpainting (Pathak et al. 2016) on the offline photographs: the authors' released network
at 128 x 128 (bottleneck 4000), the centre 64 x 64 hidden except a 4-pixel overlap border, L2 (border x10)
with weight 0.999 + adversarial 0.001, Adam(2e-4, 0.5, 0.999), batch 64; random 128 x 128 crops of the 148
`natural_images` train photographs, flipped; evaluated on Set14 (central squares at 128: PSNR / SSIM of the
hidden region, beside scikit-image's biharmonic inpainting).

  python -m launch.train --config configs/inpaint_natural_images.py --workdir workdirs/inpaint
  (--config.inpaint.mask=random_block for Pathak's random-block masks)
"""
import ml_collections

from configs import colorize_natural_images


def get_config():
  c = colorize_natural_images.paired_config()
  c.experiment = "inpaint_natural_images"
  c.pairing = "inpaint"
  c.preprocess = "random_crop_varying(128)|flip_lr|value_range(-1,1)"
  c.batch_size = 64  # train.lua's batchSize
  c.model = ml_collections.ConfigDict({"nBottleneck": 4000, "nef": 64, "ngf": 64, "ndf": 64})
  c.inpaint = ml_collections.ConfigDict({"mask": "centre", "overlap": 4, "overlap_weight": 10.0,
                                         "rec_weight": 0.999, "adv_weight": 0.001})
  c.eval_size = 128
  return c
