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


class TruncatedSampler:
  """A GAN task whose `sample` draws z truncated to [-T, T] (what evaluate_state samples through)."""

  def __init__(self, task, truncation: float | None):
    self.task, self.truncation = task, truncation
    self.conditional, self.num_labels = task.conditional, task.num_labels

  def sample(self, state, num: int, seed: int, batch_size: int = 500, labels=None):
    return self.task.sample(state, num, seed, batch_size, labels, truncation=self.truncation)


def frechet_key(row: dict) -> str:
  return "fcd" if "fcd" in row else "fid"


def table(rows: list[dict]) -> str:
  """A Markdown table of rows {'truncation': T or None, 'fcd'/'fid', 'precision', 'recall'}."""
  fd = frechet_key(rows[0])
  lines = [f"| truncation | {fd} | precision | recall |", "|---|---|---|---|"]
  for r in rows:
    t = "none" if r["truncation"] is None else f"{r['truncation']:g}"
    lines.append(f"| {t} | {r[fd]:.3f} | {r['precision']:.3f} | {r['recall']:.3f} |")
  return "\n".join(lines)


def plot(rows: list[dict], path: str, title: str = "") -> None:
  """Frechet distance and precision / recall against T (rows with truncation None drawn as dashed lines)."""
  import matplotlib  # pylint: disable=g-import-not-at-top
  matplotlib.use("Agg")
  import matplotlib.pyplot as plt  # pylint: disable=g-import-not-at-top
  fd = frechet_key(rows[0])
  swept = sorted((r for r in rows if r["truncation"] is not None), key=lambda r: r["truncation"])
  plain = [r for r in rows if r["truncation"] is None]
  ts = [r["truncation"] for r in swept]
  fig, left = plt.subplots(figsize=(6, 4))
  right = left.twinx()
  left.plot(ts, [r[fd] for r in swept], "o-", color="tab:red", label=fd.upper())
  for key, color in (("precision", "tab:blue"), ("recall", "tab:green")):
    right.plot(ts, [r[key] for r in swept], "s-", color=color, label=key)
  for r in plain:
    left.axhline(r[fd], color="tab:red", ls="--", lw=0.8)
    for key, color in (("precision", "tab:blue"), ("recall", "tab:green")):
      right.axhline(r[key], color=color, ls="--", lw=0.8)
  left.set_xlabel("truncation threshold T")
  left.set_ylabel(fd.upper())
  right.set_ylabel("precision / recall")
  right.set_ylim(0, 1)
  handles = [h for ax in (left, right) for h in ax.get_legend_handles_labels()[0]]
  left.legend(handles, [h.get_label() for h in handles], loc="center right")
  left.set_title(title or "truncation sweep (dashed: no truncation)")
  fig.tight_layout()
  os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
  fig.savefig(path, dpi=100)
  plt.close(fig)


def main(argv):
  del argv
  from gans import runs  # pylint: disable=g-import-not-at-top  # after absl parsed the flags
  from gans.errors import UserError  # pylint: disable=g-import-not-at-top
  from gans.metrics import evaluator, features  # pylint: disable=g-import-not-at-top
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
