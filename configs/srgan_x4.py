"""SRGAN (Ledig et al. 2017, sec. 2.2 and 3.2) at x4: the MSE-trained SRResNet of configs/srresnet_x4.py
fine-tuned with the VGG54 content loss (relu5_4 of VGG-19, squared distance x 1/12.75^2) + 1e-3 x the
adversarial loss against SRGAN's discriminator; Adam(1e-4, b1 0.9). Generator, crops and batch as
configs/srresnet_x4.py (smaller than the paper's, for two CPU cores: with the paper's SRResNet and 96-pixel
crops a step of batch 4 took 10 s, mostly VGG-19).

VGG weights: `--config.vgg_weights=vgg19.safetensors` (third_party/torchvision_vgg); without it the
random_vgg19 substitute is used, its content loss means nothing, and every evaluation reports
vgg_pretrained = 0.

  python -m launch.train --config configs/srgan_x4.py --workdir workdirs/srgan_x4 \
      --config.init_from=workdirs/srresnet_x4 --config.vgg_weights=vgg19.safetensors
"""
from configs.srresnet_x4 import sr_config


def get_config():
  c = sr_config("srgan_x4", "srresnet", crop=48, batch_size=4, total_steps=20_000,
                n_blocks=8, n_channels=32)
  c.pixel_weight = 0.0
  c.perceptual_weight = 1.0
  c.perceptual_layer = "relu5_4"  # phi_5,4: the 4th conv's activation before the 5th max-pool
  c.perceptual_distance = "mse"
  c.perceptual_scale = 1 / 12.75 ** 2
  c.adversarial = "gan"
  c.adversarial_weight = 1e-3
  return c
