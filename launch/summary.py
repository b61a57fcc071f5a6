"""Prints a model's sizes: `python -m launch.summary --model NAME [--num_classes K] [--image_size S]
[--channels C] [--arg key=value ...]`.

One JSON line. Classifiers: model, params (trainable), batch_stats (BatchNorm running statistics),
input_shape, output_shape. GAN, translation and super-resolution families: parameter counts per network
(generator, discriminator, ...). `--arg` keys are the reference implementation's own option names, values
Python literals or plain strings (`--arg G_shared=False --arg netG=resnet_6blocks`). Computed with
jax.eval_shape: nothing is allocated.
"""
import ast
import json

from absl import flags

from gans.errors import UserError
from launch import common

flags.DEFINE_string("model", None, "Model name (an unknown name lists the known ones).")
flags.DEFINE_integer("num_classes", 1000, "Number of classes (0: unconditional, for GAN families).")
flags.DEFINE_integer("image_size", 224, "Input (classifier) or output (generator) height and width.")
flags.DEFINE_integer("channels", 3, "Image channels.")
flags.DEFINE_bool("small_inputs", False, "Classifiers: the stem for small (28x28 / 32x32) inputs.")
flags.DEFINE_multi_string("arg", [], "key=value: a model option by the reference implementation's name.")
flags.mark_flags_as_required(["model"])
FLAGS = flags.FLAGS


def parse_args(items: list[str]) -> dict:
  """['G_ch=64', 'netG=unet_128'] -> {'G_ch': 64, 'netG': 'unet_128'} (literals where they parse)."""
  out = {}
  for item in items:
    key, sep, value = item.partition("=")
    if not sep or not key.strip():
      raise UserError(f"--arg takes key=value, got {item!r}")
    try:
      out[key.strip()] = ast.literal_eval(value.strip())
    except (ValueError, SyntaxError):
      out[key.strip()] = value.strip()
  return out


def main(argv):
  del argv
  from gans.models import summary  # pylint: disable=g-import-not-at-top  # after absl parsed the flags
  print(json.dumps(summary.summarize(FLAGS.model, FLAGS.num_classes, FLAGS.image_size, FLAGS.channels,
                                     FLAGS.small_inputs, parse_args(FLAGS.arg))))


if __name__ == "__main__":
  common.run(main)
