"""Times a config's train step: `python -m launch.benchmark --config configs/<experiment>.py [--steps N]`.

Prints one JSON line: experiment, devices, batch_size, ms_per_step (median after compile and warm-up),
images_per_sec, compile_s, peak_rss_mb, and XLA's FLOP count per step with the achieved GFLOP/s;
with --input_batches N also the input pipeline's own throughput and its headroom over the step.
"""
import json

from absl import flags
from ml_collections import config_flags

from launch import common

config_flags.DEFINE_config_file("config", None, "Experiment config file.", lock_config=True)
flags.DEFINE_integer("steps", 20, "Timed steps (after compile and 2 warm-up steps).")
flags.DEFINE_integer("input_batches", 0, "Also time this many batches of the input pipeline alone "
                     "(adds input_images_per_sec and input_headroom = input / step throughput).")
flags.mark_flags_as_required(["config"])
FLAGS = flags.FLAGS


def main(argv):
  del argv
  from gans import benchmark  # pylint: disable=g-import-not-at-top
  from gans.errors import UserError  # pylint: disable=g-import-not-at-top
  if FLAGS.steps < 1 or FLAGS.input_batches < 0:
    raise UserError(f"--steps must be positive and --input_batches >= 0, got {FLAGS.steps}, {FLAGS.input_batches}")
  print(json.dumps(benchmark.benchmark(FLAGS.config, FLAGS.steps, input_batches=FLAGS.input_batches)))


if __name__ == "__main__":
  common.run(main)
