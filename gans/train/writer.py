"""Metrics to `metrics.jsonl` (one JSON object per logged step) and TensorBoard, from process 0 only."""
import json
import math
import os

import jax
import numpy as np
from clu import metric_writers


class MetricsWriter:
  """Writes scalar dicts to DIR/metrics.jsonl and TensorBoard events in DIR."""

  def __init__(self, workdir: str, resume_step: int = 0):
    self.active = jax.process_index() == 0
    self.path = os.path.join(workdir, "metrics.jsonl")
    if self.active:
      self._truncate_after(resume_step)
      self._tb = metric_writers.SummaryWriter(workdir)

  def _truncate_after(self, step: int):
    """Drops lines logged after `step` by a run that crashed before its next checkpoint."""
    if not os.path.exists(self.path):
      return
    with open(self.path) as f:
      kept = [line for line in f if line.strip() and json.loads(line).get("step", 0) <= step]
    with open(self.path + ".tmp", "w") as f:
      f.writelines(kept)
    os.replace(self.path + ".tmp", self.path)

  def write(self, step: int, scalars: dict) -> None:
    if not self.active:
      return
    clean = {k: float(np.asarray(v)) for k, v in scalars.items()}
    with open(self.path, "a") as f:
      f.write(json.dumps({"step": int(step), **{k: (v if math.isfinite(v) else str(v)) for k, v in clean.items()}})
              + "\n")
    self._tb.write_scalars(int(step), clean)

  def close(self) -> None:
    if self.active:
      self._tb.flush()
      self._tb.close()
