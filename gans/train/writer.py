"""Metrics to `metrics.jsonl` (one JSON object per logged step) and TensorBoard, from process 0 only."""
import json
import logging
import math
import os

import jax
import numpy as np
from clu import metric_writers

from gans.errors import UserError

log = logging.getLogger(__name__)


class MetricsWriter:
  """Writes scalar dicts to DIR/metrics.jsonl and TensorBoard events in DIR.

  A failed write (disk full, file size limit) is a UserError; a line cut short by a crash is dropped when
  the next run opens the file.
  """

  def __init__(self, workdir: str, resume_step: int = 0):
    self.active = jax.process_index() == 0
    self.path = os.path.join(workdir, "metrics.jsonl")
    if self.active:
      self._guard(self._truncate_after, resume_step)
      self._tb = metric_writers.SummaryWriter(workdir)

  def _guard(self, fn, *args):
    """fn(*args); a failed write (OSError, or TensorFlow's errors from the events file) as a UserError."""
    try:
      return fn(*args)
    except Exception as e:  # pylint: disable=broad-except
      if isinstance(e, OSError):
        reason = e.strerror or str(e)
      elif type(e).__module__.startswith("tensorflow"):  # "<path>; File too large\n\tFailed to flush ..."
        reason = str(e).splitlines()[0].rsplit("; ", 1)[-1] if str(e) else type(e).__name__
      else:
        raise
      raise UserError(f"cannot write metrics to {os.path.dirname(self.path)}: {reason}") from e

  def _truncate_after(self, step: int):
    """Drops lines logged after `step` by a run that crashed before its next checkpoint, and a last line
    cut short by the crash."""
    if not os.path.exists(self.path):
      return
    kept, dropped = [], 0
    with open(self.path) as f:
      for line in f:
        try:
          row = json.loads(line)
        except ValueError:
          dropped += 1
          continue
        if row.get("step", 0) <= step:
          kept.append(json.dumps(row) + "\n")
    if dropped:
      log.warning("%s: dropped %d unreadable line(s) (cut short by a crash)", self.path, dropped)
    try:
      with open(self.path + ".tmp", "w") as f:
        f.writelines(kept)
      os.replace(self.path + ".tmp", self.path)
    finally:
      if os.path.exists(self.path + ".tmp"):
        os.remove(self.path + ".tmp")

  def write(self, step: int, scalars: dict) -> None:
    if not self.active:
      return
    clean = {k: float(np.asarray(v)) for k, v in scalars.items()}
    line = json.dumps({"step": int(step), **{k: (v if math.isfinite(v) else str(v)) for k, v in clean.items()}})

    def append():
      with open(self.path, "a") as f:
        f.write(line + "\n")
    self._guard(append)
    self._guard(self._tb.write_scalars, int(step), clean)

  def close(self) -> None:
    if self.active:
      self._guard(self._tb.flush)
      self._guard(self._tb.close)
