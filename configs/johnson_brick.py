"""Fast style transfer (Johnson et al. 2016, sec. 3-4.1) for one style, scikit-image's `brick` texture:
TransformerNet (pytorch/examples' fast_neural_style) trained on 64-pixel crops of the natural_images train
split; content relu2_2, style relu1_2 / relu2_2 / relu3_3 / relu4_3 of VGG-16 with pytorch/examples'
weights (1e5, 1e10), Adam(1e-3), batch 4 (the paper: 256-pixel COCO crops, 40k steps; 128-pixel crops took
2.4 s a step on two busy CPU cores).

VGG weights: --config.vgg_weights=vgg16.safetensors (third_party/torchvision_vgg); without it the
random_vgg16 substitute runs, its losses mean nothing, and every evaluation reports vgg_pretrained = 0.

  python -m launch.train --config configs/johnson_brick.py --workdir workdirs/johnson_brick
  python -m launch.translate --workdir workdirs/johnson_brick --input photo.jpg --out_dir stylized
"""
from configs import common


def get_config():
  c = common._base("style_transfer")  # pylint: disable=protected-access
  c.experiment = "johnson_brick"
  c.dataset = "natural_images"
  c.preprocess = "random_crop_varying(64)|flip_lr"  # uint8 crops, 0-255 as the network takes them
  c.batch_size = 4
  c.total_steps = 10_000
  c.log_every = 100
  c.eval_every = c.checkpoint_every = 2_000
  c.style_image = "skimage:brick"  # or a PNG/JPEG path
  c.style_size = 256  # longer side of the style image
  c.content_layer = "relu2_2"
  c.style_layers = ("relu1_2", "relu2_2", "relu3_3", "relu4_3")
  c.content_weight = 1e5
  c.style_weight = 1e10
  c.tv_weight = 0.0
  c.vgg_weights = ""
  c.optimizer = common.optimizer("adam", 1e-3)
  c.eval_split = "set5"
  c.eval_size = 256  # longer side of the evaluation images
  return c
