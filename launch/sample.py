"""Draws samples from a trained generator: `python -m launch.sample --workdir DIR --num N --out FILE.npz`.

Writes `samples` (float32; images [N,H,W,C] in [-1, 1], 2-D toy data [N,2]) and, for conditional models,
`labels`, to FILE exactly as named (a directory: DIR/samples.npz). Uses the EMA generator when the run kept
one (with standing statistics when its config asks). `--truncation T` draws z from the normal truncated to
[-T, T] (Brock et al. 2019, sec. 3.1). At most `MAX_BYTES` of samples.
"""
import os

import numpy as np
from absl import flags

from launch import common

flags.DEFINE_string("workdir", None, "A workdir written by launch.train.")
flags.DEFINE_integer("num", 64, "Number of samples.")
flags.DEFINE_string("out", None, "Output .npz file.")
flags.DEFINE_integer("seed", 0, "Seed for the latent codes.")
flags.DEFINE_list("labels", None, "Class labels for conditional models (one, or one per sample); default: "
                  "0, 1, ..., K-1 repeated. For InfoGAN, the categorical code.")
flags.DEFINE_float("truncation", None, "Truncation trick: z resampled until every entry lies in [-T, T].")
flags.DEFINE_string("png", None, "Also save the first 64 samples as a PNG grid (or scatter plot) here.")
flags.mark_flags_as_required(["workdir", "out"])
FLAGS = flags.FLAGS
MAX_BYTES = 4 << 30  # samples are generated in memory


def main(argv):
  del argv
  from gans import runs, visualize  # pylint: disable=g-import-not-at-top  # after absl parsed the flags
  from gans.data import pipeline  # pylint: disable=g-import-not-at-top
  from gans.errors import UserError  # pylint: disable=g-import-not-at-top
  from gans.train.task import Sampler  # pylint: disable=g-import-not-at-top
  if FLAGS.num < 1:
    raise UserError(f"--num must be positive, got {FLAGS.num}")
  out = FLAGS.out
  if os.path.isdir(out) or out.endswith(os.sep):
    out = os.path.join(out, "samples.npz")
  config, task, state, step = runs.restore_task(FLAGS.workdir)
  if not isinstance(task, Sampler):
    raise UserError(f"{FLAGS.workdir} holds a {config.get('task', 'gan')} run, which draws no samples")
  per_sample = 4 * int(np.prod(pipeline.data_spec(config).shape))
  if FLAGS.num * per_sample > MAX_BYTES:
    raise UserError(f"--num {FLAGS.num} samples take {FLAGS.num * per_sample / 2**30:.1f} GiB; at most "
                    f"{MAX_BYTES // per_sample} ({MAX_BYTES / 2**30:.0f} GiB) per call: use several --seed values")
  labels = None
  if FLAGS.labels:
    if not task.conditional:
      raise UserError("this model is unconditional: --labels does not apply")
    try:
      labels = np.array([int(v) for v in FLAGS.labels], np.int32)
    except ValueError:
      raise UserError(f"--labels must be integers, got {','.join(FLAGS.labels)}") from None
    if len(labels) == 1:
      labels = np.repeat(labels, FLAGS.num)
    if len(labels) != FLAGS.num:
      raise UserError(f"--labels needs one label or --num={FLAGS.num} of them, got {len(labels)}")
  elif task.conditional:  # labels cycle through the classes
    labels = np.arange(FLAGS.num, dtype=np.int32) % task.num_labels
  options = {} if FLAGS.truncation is None else {"truncation": FLAGS.truncation}
  samples = task.sample(state, FLAGS.num, FLAGS.seed, labels=labels, **options)
  os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
  with open(out, "wb") as f:  # a file object: np.savez would add ".npz" to a name without it
    np.savez(f, samples=samples, **({} if labels is None else {"labels": labels}))
  if FLAGS.png:
    if samples.ndim == 2:
      visualize.save_scatter(samples, FLAGS.png)
    else:
      visualize.save_image_grid(samples[:64], FLAGS.png)
  print(f"wrote {FLAGS.num} samples {samples.shape[1:]} from step {step} to {out}")


if __name__ == "__main__":
  common.run(main)
