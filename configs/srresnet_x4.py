"""SRResNet (Ledig et al. 2017, sec. 2.2, fig. 4) at x4 with the MSE loss: the PSNR-oriented network that
starts SRGAN (configs/srgan_x4.py). The paper's network has 16 residual blocks of 64 channels, trained on 96-pixel
crops in batches of 16; to train on two CPU cores this one has 8 blocks of 32 channels, 48-pixel crops, batch 4
(the full size: --config.model.n_blocks=16 --config.model.n_channels=64 --config.preprocess=
'random_crop_varying(96)|flip_lr'; 2.4 s a step at batch 4 on two busy cores).

  python -m launch.train --config configs/srresnet_x4.py --workdir workdirs/srresnet_x4

`sr_config` holds the defaults every super-resolution config here starts from.
"""
import ml_collections

from configs import common


def sr_config(experiment: str, model: str, crop: int, batch_size: int, total_steps: int,
              **model_options) -> ml_collections.ConfigDict:
  """`model` trained with MSE by Adam(1e-4) on `crop`-pixel HR crops (random flips), x4."""
  c = common._base("super_resolution")  # pylint: disable=protected-access
  c.experiment = experiment
  c.dataset = "natural_images"
  c.scale = 4
  c.preprocess = f"random_crop_varying({crop})|flip_lr"  # uint8 HR crops; the step makes the LR images
  c.batch_size = batch_size
  c.total_steps = total_steps
  c.log_every = 100
  c.eval_every = c.checkpoint_every = max(total_steps // 5, 1)
  c.eval_splits = ("set5", "set14")
  c.model = ml_collections.ConfigDict({"name": model, **model_options})
  c.g_optimizer = common.optimizer("adam", 1e-4, b1=0.9, b2=0.999)
  c.pixel_loss = "mse"
  c.pixel_weight = 1.0
  # Perceptual loss on one VGG-19 layer (off at weight 0). `vgg_weights`: a converted torchvision file
  # (third_party/torchvision_vgg); '' uses the random_vgg19 substitute, whose features mean nothing.
  c.perceptual_weight = 0.0
  c.perceptual_layer = "relu5_4"
  c.perceptual_distance = "mse"
  c.perceptual_scale = 1.0
  c.vgg_weights = ""
  c.adversarial = "none"  # none | gan | ragan
  c.adversarial_weight = 0.0
  c.discriminator = ml_collections.ConfigDict({"n_blocks": 8, "n_channels": 64, "fc_size": 1024})
  c.d_optimizer = common.optimizer("adam", 1e-4, b1=0.9, b2=0.999)
  c.init_from = ""  # an SR workdir whose generator starts this run
  return c


def get_config():
  return sr_config("srresnet_x4", "srresnet", crop=48, batch_size=4, total_steps=20_000,
                   n_blocks=8, n_channels=32)
