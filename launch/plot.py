"""Training curves from metrics.jsonl: `python -m launch.plot --workdir DIR [--out FILE.png]`.

One panel per metric (all losses share one panel), x = step; evaluation metrics logged every
`eval_every` steps are drawn with markers. Default output: DIR/curves.png.
"""
import json
import math
import os

from absl import flags

from launch import common

flags.DEFINE_string("workdir", None, "A workdir written by launch.train.")
flags.DEFINE_string("out", None, "Output PNG (default: <workdir>/curves.png).")
flags.mark_flags_as_required(["workdir"])
FLAGS = flags.FLAGS


def read_metrics(path: str) -> dict[str, tuple[list[int], list[float]]]:
  """{metric: (steps, values)} from a metrics.jsonl; a step logged twice (resumed run) keeps its last value."""
  from gans.errors import UserError  # pylint: disable=g-import-not-at-top
  if not os.path.exists(path):
    raise UserError(f"no metrics file {path}; train a run with launch.train first")
  by_key: dict[str, dict[int, float]] = {}
  with open(path) as f:
    for i, line in enumerate(f, 1):
      if not line.strip():
        continue
      try:
        record = json.loads(line)
        step = int(record.pop("step"))
      except (ValueError, KeyError):
        raise UserError(f"{path}:{i}: not a JSON object with a 'step'") from None
      for k, v in record.items():
        try:
          by_key.setdefault(k, {})[step] = float(v)  # "nan" / "inf" strings become floats
        except (TypeError, ValueError):
          continue
  if not by_key:
    raise UserError(f"{path} holds no metrics yet")
  return {k: (sorted(d), [d[s] for s in sorted(d)]) for k, d in sorted(by_key.items())}


def plot_curves(series: dict[str, tuple[list[int], list[float]]], out: str, title: str = "") -> str:
  """Draws `series` as a grid of panels (losses together) into the PNG `out`."""
  import matplotlib  # pylint: disable=g-import-not-at-top
  matplotlib.use("Agg")
  import matplotlib.pyplot as plt  # pylint: disable=g-import-not-at-top
  losses = [k for k in series if "loss" in k]
  panels = ([("losses", losses)] if losses else []) + [(k, [k]) for k in series if k not in losses]
  ncols = min(3, len(panels))
  nrows = math.ceil(len(panels) / ncols)
  fig, axes = plt.subplots(nrows, ncols, figsize=(4.5 * ncols, 3 * nrows), dpi=100, squeeze=False)
  for ax, (name, keys) in zip(axes.flat, panels):
    for k in keys:
      steps, values = series[k]
      ax.plot(steps, values, marker="o" if len(steps) <= 30 else None, markersize=3, label=k)
    ax.set_title(name, fontsize=9)
    ax.set_xlabel("step", fontsize=8)
    ax.tick_params(labelsize=7)
    if len(keys) > 1:
      ax.legend(fontsize=7)
  for ax in list(axes.flat)[len(panels):]:
    ax.axis("off")
  fig.suptitle(title, fontsize=10)
  fig.tight_layout()
  os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
  tmp = out + ".tmp.png"
  fig.savefig(tmp)
  plt.close(fig)
  os.replace(tmp, out)
  return out


def main(argv):
  del argv
  out = FLAGS.out or os.path.join(FLAGS.workdir, "curves.png")
  series = read_metrics(os.path.join(FLAGS.workdir, "metrics.jsonl"))
  plot_curves(series, out, os.path.basename(os.path.abspath(FLAGS.workdir)))
  print(f"wrote {len(series)} curves to {out}")


if __name__ == "__main__":
  common.run(main)
