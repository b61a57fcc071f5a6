"""Sample quality against the truncation threshold (Brock et al. 2019, sec. 3.1, fig. 17): a sampler with z
truncated to [-T, T], and the sweep's table and picture (`launch.truncation_plot` runs the sweep)."""
import os


class TruncatedSampler:
  """A GAN task whose `sample` draws z truncated to [-T, T] (what evaluate_state samples through)."""

  def __init__(self, task, truncation: float | None):
    self.task, self.truncation = task, truncation
    self.conditional, self.num_labels, self.class_labels = task.conditional, task.num_labels, task.class_labels

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
  import matplotlib  # pylint: disable=g-import-not-at-top  # optional, only for the picture
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
