"""ESRGAN (Wang et al. 2018, sec. 3 and 4.1) at x4: RRDBNet fine-tuned from a PSNR-oriented (L1) run with
L_G = L_percep + 5e-3 L_G^Ra + 1e-2 L_1: perceptual loss on conv5_4 of VGG-19 BEFORE its ReLU (L1 distance,
as BasicSR's config), the relativistic average GAN against a VGG-style discriminator (SRGAN's), Adam(1e-4,
b1 0.9, b2 0.99). The paper's RRDBNet has 23 blocks of 64 channels (growth 32) on 128-pixel crops, batch 16;
here 4 blocks of 32 channels (growth 16), 48-pixel crops and batch 4, to train on two CPU cores.

The PSNR-oriented start: the same config with --config.pixel_loss=l1 --config.perceptual_weight=0
--config.adversarial=none --config.pixel_weight=1; then network interpolation (sec. 3.4) with
launch.interpolate. VGG weights as in configs/srgan_x4.py (random substitute without them).

  python -m launch.train --config configs/esrgan_x4.py --workdir workdirs/esrgan_x4 \
      --config.init_from=workdirs/rrdbnet_psnr_x4 --config.vgg_weights=vgg19.safetensors
"""
from configs import common
from configs.srresnet_x4 import sr_config


def get_config():
  c = sr_config("esrgan_x4", "rrdbnet", crop=48, batch_size=4, total_steps=20_000,
                num_feat=32, num_block=4, num_grow_ch=16)
  c.pixel_loss = "l1"
  c.pixel_weight = 1e-2
  c.perceptual_weight = 1.0
  c.perceptual_layer = "conv5_4"
  c.perceptual_distance = "l1"
  c.adversarial = "ragan"
  c.adversarial_weight = 5e-3
  c.g_optimizer = common.optimizer("adam", 1e-4, b1=0.9, b2=0.99)
  c.d_optimizer = common.optimizer("adam", 1e-4, b1=0.9, b2=0.99)
  return c
