"""Sample quality against the truncation threshold of a trained GAN (Brock et al. 2019, sec. 3.1, fig. 17):

  python -m launch.truncation_plot --workdir DIR --extractor classifier:workdirs/resnet20_fashion_mnist \
      [--truncations 0.25,0.5,1,1.5,2 --num 2000 --out DIR/truncation.png]

For each threshold T, `--num` samples with z truncated to [-T, T] are scored by
`gans.metrics.evaluator.evaluate_state` with the extractor (the Frechet distance, precision and recall), and
once without truncation. Prints a Markdown table and plots the Frechet distance (left axis) and
precision / recall (right axis) against T, the untruncated values as dashed lines.
"""
import os

from absl import flags

from launch import common

flags.DEFINE_string("workdir", None, "A GAN workdir written by launch.train.")
flags.DEFINE_string("extractor", None, "Feature extractor: classifier:<workdir> or inception_fid.")
flags.DEFINE_list("truncations", ["0.25", "0.5", "0.75", "1.0", "1.5", "2.0"], "Thresholds T to sweep.")
flags.DEFINE_integer("num", 2000, "Samples per threshold.")
flags.DEFINE_integer("seed", 0, "Seed of the latent codes.")
flags.DEFINE_string("out", None, "Output PNG (default: <workdir>/truncation.png).")
flags.mark_flags_as_required(["workdir", "extractor"])
FLAGS = flags.FLAGS


def main(argv):
  del argv
  from gans import runs  # pylint: disable=g-import-not-at-top  # after absl parsed the flags
  from gans.errors import UserError  # pylint: disable=g-import-not-at-top
  from gans.metrics import evaluator, features  # pylint: disable=g-import-not-at-top
  from gans.metrics.truncation import TruncatedSampler, plot, table  # pylint: disable=g-import-not-at-top
  try:
    truncations = [float(t) for t in FLAGS.truncations]
  except ValueError:
    raise UserError(f"--truncations must be numbers, got {','.join(FLAGS.truncations)}") from None
  if not truncations or min(truncations) <= 0:
    raise UserError(f"--truncations must be positive thresholds, got {','.join(FLAGS.truncations)}")
  config, task, state, step = runs.restore_task(FLAGS.workdir)
  if not hasattr(task, "sample") or not hasattr(task, "sampling_state"):
    raise UserError(f"{FLAGS.workdir} holds a {config.get('task', 'gan')} run; the sweep takes a GAN run")
  extractor = features.get_extractor(FLAGS.extractor)
  rows = []
  for t in [None, *truncations]:
    result = evaluator.evaluate_state(config, TruncatedSampler(task, t), state, FLAGS.num, extractor, seed=FLAGS.seed,
                                      cache_dir=evaluator.default_cache_dir(config, FLAGS.workdir))
    rows.append({"truncation": t, **{k: v for k, v in result.items() if k != "protocol"}})
  out = FLAGS.out or os.path.join(FLAGS.workdir, "truncation.png")
  plot(rows, out, f"{config.get('experiment', '')} step {step}: {FLAGS.num} samples per T")
  print(table(rows))
  print(f"wrote {out}")


if __name__ == "__main__":
  common.run(main)
