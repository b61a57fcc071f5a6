"""Gatys et al. 2016's neural style transfer of one image: the picture is optimised so that its VGG-19
features match the content image's (conv4_2) and its Gram matrices the style image's (conv1_1 .. conv5_1).

  python -m launch.stylize --content A.png --style B.png --out C.png [--steps N] [--optimizer lbfgs]
  python -m launch.stylize --content photo.jpg --style skimage:brick --out brick.png --vgg_weights vgg19.npz

`--style` and `--content` may name one of scikit-image's pictures (skimage:astronaut, brick, chelsea,
coffee, grass, gravel) or a natural_images photograph (set14:lenna). Without --vgg_weights (a converted
torchvision VGG-19, third_party/torchvision_vgg) the random_vgg19 substitute is used and the output says so:
the code runs, the result is no style transfer (see --style_weight for its balance).
"""
from absl import flags

from launch import common

flags.DEFINE_string("content", None, "Content image (PNG/JPEG), skimage:<name> or <split>:<name>.")
flags.DEFINE_string("style", None, "Style image (PNG/JPEG), skimage:<name> or <split>:<name>.")
flags.DEFINE_string("out", None, "Where the PNG result goes.")
flags.DEFINE_integer("steps", 300, "Optimiser steps.")
flags.DEFINE_enum("optimizer", "adam", ["adam", "lbfgs"], "Adam on the pixels, or L-BFGS (optax).")
flags.DEFINE_enum("init", "content", ["content", "noise"], "Start from the content image or from white noise "
                  "(the paper's choice).")
flags.DEFINE_integer("seed", 0, "Seed of the noise start.")
flags.DEFINE_float("learning_rate", 0.02, "Adam's step size, in [0, 1] pixel units.")
flags.DEFINE_integer("size", 256, "Longer side of the content image (resized); the style image is resized to it too.")
flags.DEFINE_float("content_weight", 1.0, "alpha (Gatys et al. 2016, eq. 7).")
flags.DEFINE_float("style_weight", 1e3, "beta; alpha / beta = 1e-3 as the paper's sec. 3.")
flags.DEFINE_float("tv_weight", 0.0, "Weight of the total-variation smoothness term (0: off).")
flags.DEFINE_string("content_layer", "relu4_2", "VGG-19 layer of the content loss.")
flags.DEFINE_list("style_layers", ["relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1"],
                  "VGG-19 layers of the style loss, equally weighted.")
flags.DEFINE_string("vgg_weights", "", "Converted torchvision VGG-19 (.safetensors/.npz); default: random substitute.")
flags.DEFINE_integer("every", 50, "Print the losses every this many steps.")
flags.mark_flags_as_required(["content", "style", "out"])
FLAGS = flags.FLAGS


def main(argv):
  del argv
  # pylint: disable=g-import-not-at-top  # after absl parsed the flags
  from gans import visualize
  from gans.errors import UserError
  from gans.train import style_task
  content = style_task.read_image(FLAGS.content)  # both read before any work
  style = style_task.read_image(FLAGS.style)
  if FLAGS.size < 16:
    raise UserError(f"--size must be at least 16 pixels, got {FLAGS.size}")
  content = style_task.resize_longer_side(content, FLAGS.size)
  style = style_task.resize_longer_side(style, FLAGS.size)
  loss, params, source = style_task.gatys_loss(FLAGS.vgg_weights, FLAGS.content_layer, FLAGS.style_layers,
                                               FLAGS.content_weight, FLAGS.style_weight, FLAGS.tv_weight)
  print(f"VGG-19 weights: {source}", flush=True)

  def report(step, terms):
    print(f"step {step}/{FLAGS.steps}  " + "  ".join(f"{k}={v:.4g}" for k, v in terms.items()), flush=True)

  image = style_task.gatys_transfer(content, style, loss, params, FLAGS.steps, FLAGS.optimizer,
                                    FLAGS.learning_rate, max(FLAGS.every, 1), report, FLAGS.init, FLAGS.seed)
  visualize.save_png(image, FLAGS.out)
  print(f"wrote {FLAGS.out} ({image.shape[1]}x{image.shape[0]}); VGG-19 weights: {source}", flush=True)


if __name__ == "__main__":
  common.run(main)
