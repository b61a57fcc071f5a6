"""Prints a classifier's sizes: `python -m launch.summary --model NAME [--num_classes K] [--image_size S]`.

One JSON line: model, params (trainable), batch_stats (BatchNorm running statistics), input_shape,
output_shape. Computed with jax.eval_shape: nothing is allocated.
"""
import json

from absl import flags

from launch import common

flags.DEFINE_string("model", None, "Classifier name (an unknown name lists the known ones).")
flags.DEFINE_integer("num_classes", 1000, "Number of classes.")
flags.DEFINE_integer("image_size", 224, "Input height and width.")
flags.DEFINE_integer("channels", 3, "Input channels.")
flags.DEFINE_bool("small_inputs", False, "Use the stem for small (28x28 / 32x32) inputs.")
flags.mark_flags_as_required(["model"])
FLAGS = flags.FLAGS


def main(argv):
  del argv
  from gans.models import summary  # pylint: disable=g-import-not-at-top
  print(json.dumps(summary.summarize(FLAGS.model, FLAGS.num_classes, FLAGS.image_size, FLAGS.channels,
                                     FLAGS.small_inputs)))


if __name__ == "__main__":
  common.run(main)
