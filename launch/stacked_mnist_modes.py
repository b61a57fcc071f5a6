"""Counts the Stacked-MNIST modes of a trained generator: `python -m launch.stacked_mnist_modes --workdir RUN
[--classifier shipped:mnist_5k] [--num 26000]`. Prints one JSON line: step, modes (of 1,000), kl, and
channel_kl (the part of kl that unbalanced digits explain).

`--real train` (or `test`) scores `--num` real stacked images of mnist_5k's digits instead, the metric's floor:
the classifier's modes and KL, the KL of the digits' true labels, and the classifier's per-channel accuracy.

The digit classifier is by default the LeNet-5 the library ships (96.6% on mnist_5k's test digits), or a
classifier run on mnist_5k (configs/lenet5_mnist_5k.py); see gans.metrics.stacked_mnist.
"""
import json

from absl import flags

from launch import common

flags.DEFINE_string("workdir", None, "A generative run written by launch.train.")
flags.DEFINE_enum("real", None, ["train", "test"], "Score real stacked digits of this mnist_5k split instead of a "
                  "run (the metric's floor).")
flags.DEFINE_string("classifier", "shipped:mnist_5k", "The digit classifier: shipped:mnist_5k, or the workdir "
                    "of a classifier trained on mnist_5k.")
flags.DEFINE_integer("num", 26_000, "Number of samples (PacGAN: 26,000).")
flags.DEFINE_integer("seed", 0, "Seed of the samples.")
flags.mark_flags_as_mutual_exclusive(["workdir", "real"], required=True)
FLAGS = flags.FLAGS


def main(argv):
  del argv
  from gans import runs  # pylint: disable=g-import-not-at-top  # after absl parsed the flags
  from gans.errors import UserError  # pylint: disable=g-import-not-at-top
  from gans.metrics import stacked_mnist  # pylint: disable=g-import-not-at-top
  from gans.train.task import Sampler  # pylint: disable=g-import-not-at-top
  if FLAGS.num < 1:
    raise UserError(f"--num must be positive, got {FLAGS.num}")
  classify = stacked_mnist.classifier(FLAGS.classifier)
  if FLAGS.real:
    print(json.dumps(stacked_mnist.real_floor(FLAGS.real, FLAGS.num, FLAGS.seed, classify)))
    return
  config, task, state, step = runs.restore_task(FLAGS.workdir)
  if not isinstance(task, Sampler):
    raise UserError(f"{FLAGS.workdir} holds a {config.get('task', 'gan')} run, which draws no samples")
  if task.conditional:
    raise UserError(f"{FLAGS.workdir}: the mode count is for unconditional generators")
  result = stacked_mnist.mode_count(task.sample(state, FLAGS.num, FLAGS.seed), classify)
  print(json.dumps({"step": int(step), **result}))


if __name__ == "__main__":
  common.run(main)
