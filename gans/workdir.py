"""What keeps one workdir to one run: an exclusive lock, the config check on resume, atomic writes, and a
clean stop on SIGTERM / SIGINT.

Resuming with a changed config is refused when a changed key alters what is trained (`config_changes`);
keys in `ALLOWED_CHANGES` (how long, how often to log / evaluate / checkpoint, where the data is, how it is
spread over devices, compiler options) may change. Each change is recorded in `config_history.jsonl`.
"""
import errno
import fcntl
import json
import logging
import os
import signal
import time

from ml_collections import ConfigDict

from gans.errors import UserError

log = logging.getLogger(__name__)

# Keys (dotted paths; a prefix covers a sub-config) that do not change the trained parameters of a resumed
# run. `total_steps` only while no learning-rate schedule depends on it (every `schedule` is "constant").
ALLOWED_CHANGES = ("total_steps", "log_every", "eval_every", "checkpoint_every", "experiment_note",
                   "eval_extractor", "eval_num_samples", "eval_split", "eval_batch_size", "eval_preprocess",
                   "tta_flip", "tta_shift", "num_devices", "mesh", "sharding_rules", "data_dir", "cache_data",
                   "xla_cpu_ynn_fusions")


def atomic_write(path: str, text: str) -> None:
  """Writes `text` to `path` through a temporary file and os.replace (never a half-written file)."""
  tmp = f"{path}.tmp{os.getpid()}"
  try:
    with open(tmp, "w") as f:
      f.write(text)
      f.flush()
      os.fsync(f.fileno())
    os.replace(tmp, path)
  finally:
    if os.path.exists(tmp):
      os.remove(tmp)


class Lock:
  """An exclusive flock on `workdir/.lock` holding the owner's pid. The kernel releases it when the process
  ends, however it ends (kill -9 included), so it is never stale."""

  def __init__(self, workdir: str):
    self.path = os.path.join(workdir, ".lock")
    self._file = open(self.path, "a+")  # pylint: disable=consider-using-with
    try:
      fcntl.flock(self._file, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as e:
      self._file.seek(0)
      holder = self._file.read().strip() or "?"
      self._file.close()
      if e.errno in (errno.EAGAIN, errno.EACCES):
        raise UserError(f"workdir {workdir} is in use by process {holder} (lock {self.path}); wait for it or "
                        "stop it first") from None
      raise
    self._file.seek(0)
    self._file.truncate()
    self._file.write(f"{os.getpid()}\n")
    self._file.flush()

  def release(self) -> None:
    if not self._file.closed:
      fcntl.flock(self._file, fcntl.LOCK_UN)
      self._file.close()


def _flat(tree, prefix: str = "") -> dict:
  out = {}
  for k, v in tree.items():
    key = f"{prefix}{k}"
    if isinstance(v, dict):
      out.update(_flat(v, key + "."))
      if not v:
        out[key] = {}
    else:
      out[key] = list(v) if isinstance(v, tuple) else v
  return out


def _allowed(key: str, old: dict, new: dict) -> bool:
  if key == "total_steps":
    return all(v == "constant" for d in (old, new) for k, v in d.items() if k.split(".")[-1] == "schedule")
  return any(key == a or key.startswith(a + ".") for a in ALLOWED_CHANGES)


def config_changes(old: dict, new: dict) -> tuple[list[str], list[str]]:
  """(changed keys that alter training, changed keys in ALLOWED_CHANGES) between two config dicts."""
  old_flat, new_flat = _flat(old), _flat(new)
  changed = sorted(k for k in old_flat.keys() | new_flat.keys() if old_flat.get(k, "<absent>") != new_flat.get(
      k, "<absent>"))
  blocked = [k for k in changed if not _allowed(k, old_flat, new_flat)]
  return blocked, [k for k in changed if k not in blocked]


def read_config(workdir: str) -> dict | None:
  """The stored config.json as a dict (None when absent; a UserError when unreadable)."""
  path = os.path.join(workdir, "config.json")
  if not os.path.exists(path):
    return None
  try:
    with open(path) as f:
      return json.load(f)
  except ValueError as e:
    raise UserError(f"{path} is unreadable ({e}); it was cut short or edited") from None


def check_and_store_config(workdir: str, config: ConfigDict, resume_step: int, allow_change: bool) -> None:
  """Compares `config` with the workdir's stored one (when resuming) and stores it.

  A change to a key outside ALLOWED_CHANGES is a UserError listing the keys, unless `allow_change`. Any
  change appends the previous and new configs to config_history.jsonl before config.json is replaced, so
  every config a run was trained with is kept.
  """
  new = json.loads(config.to_json())
  old = read_config(workdir)
  if old is not None and resume_step > 0:
    blocked, allowed = config_changes(old, new)
    if blocked and not allow_change:
      shown = ", ".join(f"{k} ({_flat(old).get(k, '<absent>')!r} -> {_flat(new).get(k, '<absent>')!r})"
                        for k in blocked[:8])
      raise UserError(f"config differs from {workdir}/config.json (checkpoint {resume_step}) in keys that change "
                      f"training: {shown}{' ...' if len(blocked) > 8 else ''}; use a new --workdir, or "
                      "--allow_config_change to resume with them (recorded in config_history.jsonl)")
    if blocked or allowed:
      history = os.path.join(workdir, "config_history.jsonl")
      with open(history, "a") as f:
        if os.path.getsize(history) == 0:
          f.write(json.dumps({"from_step": 0, "config": old}) + "\n")
        f.write(json.dumps({"from_step": resume_step, "time": time.strftime("%Y-%m-%dT%H:%M:%S"),
                            "changed": blocked + allowed, "config": new}) + "\n")
      log.warning("config changed since checkpoint %d: %s (recorded in %s)", resume_step, blocked + allowed,
                  history)
  atomic_write(os.path.join(workdir, "config.json"), config.to_json(indent=2))


class StopOnSignal:
  """Turns SIGTERM and SIGINT into a clean stop at the next step (a checkpoint is written first); a second
  one stops at once. `signal_name` is the signal received (None: none)."""

  def __init__(self):
    self.signal_name = None
    self.signum = 0
    for sig in (signal.SIGTERM, signal.SIGINT):
      try:
        signal.signal(sig, self._handle)
      except ValueError:  # not the main thread
        pass

  @property
  def requested(self) -> bool:
    return self.signal_name is not None

  def _handle(self, signum, frame):
    del frame
    if self.requested:  # asked twice: stop now, the default way
      signal.signal(signum, signal.SIG_DFL)
      os.kill(os.getpid(), signum)
      return
    self.signum, self.signal_name = signum, signal.Signals(signum).name
    log.warning("%s: stopping after the current step and its checkpoint (send it again to stop at once)",
                self.signal_name)
