"""Orbax checkpoints of train states: sealed with a sha256 manifest, checked on restore.

Orbax writes each step into a temporary directory and renames it when complete, so a run killed at
any moment leaves the previous checkpoints intact; a partly written step is never picked up. Once a step
is final (asynchronous saves: at the next `save`, `poll` or `finish`), `seal` writes the sha256 of each of
its files to `<workdir>/checkpoint_sha256/<step>.json`. `restore` takes the newest step whose files match
their manifest and whose floating-point values are all finite, and warns naming each newer step it skipped.
"""
import hashlib
import json
import logging
import os
import re
import weakref

import jax
import jax.numpy as jnp
import numpy as np
import orbax.checkpoint as ocp
from ml_collections import ConfigDict

from gans import workdir as workdir_lib
from gans.errors import UserError

log = logging.getLogger(__name__)

MANIFEST_DIR = "checkpoint_sha256"
_unsealed = weakref.WeakKeyDictionary()  # manager -> steps it saved whose manifest is not written yet


class CheckpointWriteError(UserError):
  """A checkpoint could not be written (disk full, file size limit, read-only directory)."""


def manager(workdir: str, max_to_keep: int = 3, async_save: bool = True) -> ocp.CheckpointManager:
  """A CheckpointManager over `workdir/checkpoints`."""
  options = ocp.CheckpointManagerOptions(max_to_keep=max_to_keep, create=True,
                                         enable_async_checkpointing=async_save)
  return ocp.CheckpointManager(os.path.join(os.path.abspath(workdir), "checkpoints"), options=options)


def _manifest_dir(mngr) -> str:
  return os.path.join(os.path.dirname(str(mngr.directory)), MANIFEST_DIR)


def _step_dir(mngr, step: int) -> str:
  return os.path.join(str(mngr.directory), str(step))


def _digests(step_dir: str) -> dict:
  """{path relative to `step_dir`: sha256 hex} of every file under it."""
  out = {}
  for root, _, files in os.walk(step_dir):
    for name in files:
      path = os.path.join(root, name)
      h = hashlib.sha256()
      with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
          h.update(block)
      out[os.path.relpath(path, step_dir)] = h.hexdigest()
  return dict(sorted(out.items()))


def _write_error(mngr, step: int | None, e: Exception) -> CheckpointWriteError:
  """A one-line CheckpointWriteError for an exception orbax (or the OS) raised while writing `step`."""
  if isinstance(e, OSError) and e.errno:
    reason = os.strerror(e.errno)
  else:
    code = re.search(r"os_error_code='?(\d+)", str(e))
    reason = os.strerror(int(code.group(1))) if code else f"{type(e).__name__}: {str(e).splitlines()[0][:200]}"
  kept = sorted(int(d) for d in os.listdir(str(mngr.directory)) if d.isdigit())  # final steps, from the disk
  what = "checkpoints" if step is None else f"checkpoint {step}"
  return CheckpointWriteError(f"cannot write {what} in {mngr.directory}: {reason}; checkpoints kept: {kept or 'none'}")


def seal(mngr: ocp.CheckpointManager) -> None:
  """Writes the manifest of each final step this manager saved; drops manifests of deleted steps."""
  pending = _unsealed.get(mngr, set())
  if jax.process_index() != 0:  # one writer for a shared file system
    pending.clear()
    return
  steps = set(mngr.all_steps())
  folder = _manifest_dir(mngr)
  for step in sorted(pending):
    if step in steps and os.path.isdir(_step_dir(mngr, step)):
      os.makedirs(folder, exist_ok=True)
      tmp = os.path.join(folder, f".{step}.json.tmp")
      with open(tmp, "w") as f:
        json.dump({"step": step, "sha256": _digests(_step_dir(mngr, step))}, f, indent=1)
        f.flush()
        os.fsync(f.fileno())
      os.replace(tmp, os.path.join(folder, f"{step}.json"))
    pending.discard(step)
  if os.path.isdir(folder):
    for name in os.listdir(folder):
      stem = name.removesuffix(".json")
      if stem.isdigit() and int(stem) not in steps:
        os.remove(os.path.join(folder, name))


def check_writable(mngr: ocp.CheckpointManager, step: int | None = None) -> None:
  """A CheckpointWriteError unless a file can be created in the checkpoint directory (orbax's threads would
  wait minutes on a step directory they failed to create)."""
  probe = os.path.join(str(mngr.directory), f".write_test_{os.getpid()}")
  try:
    with open(probe, "w"):
      pass
    os.remove(probe)
  except OSError as e:
    raise _write_error(mngr, step, e) from e


def save(mngr: ocp.CheckpointManager, step: int, state) -> None:
  """Saves `state` at `step` (asynchronously when the manager is async); seals the previous save.

  Raises CheckpointWriteError when the directory cannot be written (`check_writable`, first) or an earlier
  asynchronous save failed.
  """
  check_writable(mngr, step)
  finish(mngr)
  try:
    mngr.save(step, args=ocp.args.StandardSave(state), force=True)
  except Exception as e:  # orbax raises ValueError etc. wrapping the OS error
    raise _write_error(mngr, step, e) from e
  _unsealed.setdefault(mngr, set()).add(step)
  if not mngr.is_saving_in_progress():  # a synchronous save: final now
    seal(mngr)


def poll(mngr: ocp.CheckpointManager) -> None:
  """Seals the last save if it has finished (cheap when nothing is pending: call it every step)."""
  if _unsealed.get(mngr):
    try:
      if not mngr.is_saving_in_progress():
        mngr.wait_until_finished()  # raises a failed background save's error
        seal(mngr)
    except Exception as e:
      raise _write_error(mngr, max(_unsealed[mngr]), e) from e


def finish(mngr: ocp.CheckpointManager) -> None:
  """Waits for pending saves and seals them."""
  try:
    mngr.wait_until_finished()
    seal(mngr)
  except Exception as e:
    raise _write_error(mngr, max(_unsealed.get(mngr) or {None}), e) from e


def close(mngr: ocp.CheckpointManager) -> None:
  """`finish`, then closes the manager (left open when a save failed: closing it then only adds orbax's
  tracebacks from its event loop)."""
  finish(mngr)
  mngr.close()


def verify(mngr: ocp.CheckpointManager, step: int) -> str | None:
  """Why `step`'s files do not match its manifest (None when they match or it has none)."""
  path = os.path.join(_manifest_dir(mngr), f"{step}.json")
  if not os.path.exists(path):
    return None
  try:
    with open(path) as f:
      expected = json.load(f)["sha256"]
  except (ValueError, KeyError) as e:
    return f"its manifest {path} is unreadable ({e})"
  actual = _digests(_step_dir(mngr, step))
  changed = sorted(k for k in expected.keys() | actual.keys() if expected.get(k) != actual.get(k))
  if changed:
    return f"sha256 mismatch in {', '.join(changed[:3])}{' ...' if len(changed) > 3 else ''}"
  return None


def has_manifest(mngr: ocp.CheckpointManager, step: int) -> bool:
  return os.path.exists(os.path.join(_manifest_dir(mngr), f"{step}.json"))


@jax.jit
def all_finite(tree) -> jax.Array:
  """True when every floating-point leaf of `tree` is finite (one device scalar)."""
  leaves = [jnp.isfinite(x).all() for x in jax.tree.leaves(tree) if jnp.issubdtype(x.dtype, jnp.inexact)]
  return jnp.all(jnp.stack(leaves)) if leaves else jnp.bool_(True)


def _restore_one(mngr, abstract_state, step: int):
  """(state, None) or (None, why `step` cannot be used)."""
  problem = verify(mngr, step)
  if problem:
    return None, problem
  target = jax.tree.map(
      lambda x: jax.ShapeDtypeStruct(x.shape, x.dtype, sharding=getattr(x, "sharding", None)), abstract_state)
  try:
    state = mngr.restore(step, args=ocp.args.StandardRestore(target))
  except Exception as e:  # orbax raises many types for unreadable or mismatched files
    return None, f"{type(e).__name__}: {str(e).splitlines()[0][:200]}"
  if not bool(np.asarray(all_finite(state))):
    return None, "it holds non-finite values"
  return state, None


def restore(mngr: ocp.CheckpointManager, abstract_state, step: int | None = None):
  """Restores `step`, or the newest intact step, into the shapes/shardings of `abstract_state`.

  Without `step`, a step that fails its manifest, cannot be read or holds NaN/inf is skipped with a
  warning, and the next older one is tried. Returns (state, step), or (None, 0) when there is no checkpoint.
  """
  steps = sorted(mngr.all_steps(), reverse=True)
  if step is not None:
    if step not in steps:
      raise UserError(f"no checkpoint {step} in {mngr.directory}; there are: {sorted(steps) or 'none'}")
    steps = [step]
  if not steps:
    return None, 0
  problems = []
  for s in steps:
    state, problem = _restore_one(mngr, abstract_state, s)
    if state is not None:
      if not has_manifest(mngr, s):
        log.warning("checkpoint %d has no sha256 manifest (saved by an older version, or the run was killed "
                    "before sealing it): restored unverified", s)
      return state, s
    problems.append(f"{s} ({problem})")
    if len(steps) > 1:
      log.warning("skipping checkpoint %s: %s", _step_dir(mngr, s), problem)
  raise UserError(f"no usable checkpoint in {mngr.directory}: {'; '.join(problems)} (corrupt, or saved by a "
                  "different config; delete them or use a new --workdir)")


def set_aside(mngr: ocp.CheckpointManager, after: int) -> list[int]:
  """Moves the steps newer than `after` (skipped by `restore`, or past a --restore_step) to
  `<workdir>/checkpoints_set_aside/<step>`, so the resumed run can write those steps again."""
  moved = []
  for s in sorted(mngr.all_steps()):
    if s > after:
      dest = os.path.join(os.path.dirname(str(mngr.directory)), "checkpoints_set_aside", str(s))
      n = 1
      while os.path.exists(dest):
        dest = os.path.join(os.path.dirname(dest), f"{s}.{n}")
        n += 1
      os.makedirs(os.path.dirname(dest), exist_ok=True)
      os.replace(_step_dir(mngr, s), dest)
      manifest = os.path.join(_manifest_dir(mngr), f"{s}.json")
      if os.path.exists(manifest):
        os.replace(manifest, dest + ".sha256.json")
      moved.append(s)
  if moved:
    mngr.reload()
    log.warning("moved checkpoints %s (newer than the restored step %d) to %s", moved, after,
                os.path.join(os.path.dirname(str(mngr.directory)), "checkpoints_set_aside"))
  return moved


# --- a workdir's layout: config.json, checkpoints/<step>/default


def load_config(workdir: str) -> ConfigDict:
  """The config a workdir was trained with (written by the train loop as config.json)."""
  config = workdir_lib.read_config(workdir)
  if config is None:
    raise UserError(f"{workdir} holds no trained run (no config.json); train one with launch.train first")
  return ConfigDict(config)


def step_dir(path: str) -> str:
  """The latest checkpoint step directory named by a workdir, its checkpoints dir, or a step dir."""
  path = os.path.abspath(os.path.expanduser(path))
  if os.path.isdir(os.path.join(path, "checkpoints")):
    path = os.path.join(path, "checkpoints")
  if os.path.isdir(os.path.join(path, "default")):
    return path
  steps = [int(d) for d in os.listdir(path) if d.isdigit()] if os.path.isdir(path) else []
  steps = [s for s in steps if os.path.isdir(os.path.join(path, str(s), "default"))]
  if not steps:
    raise UserError(f"no checkpoint found at {path}")
  return os.path.join(path, str(max(steps)))


def load_variables(path: str, prefer_ema: bool = True, network: str = "") -> tuple[dict, int]:
  """({'params', 'batch_stats'} as numpy, step) of a network in the checkpoint at `path` (a workdir, its
  checkpoints dir or a step dir): the state itself (a classifier), or its field `network` (an SR run's 'g').

  With `prefer_ema`, a run with `ema_decay` > 0 gives its moving averages: the weights its evaluation used.
  """
  directory = step_dir(path)
  item = os.path.join(directory, "default")
  ckptr = ocp.PyTreeCheckpointer()
  try:
    tree = ckptr.metadata(item).item_metadata.tree
  except Exception as e:  # orbax raises many types for unreadable files
    raise UserError(f"cannot read checkpoint {item}: {type(e).__name__}") from e
  root = tree.get(network, {}) if network else tree
  if "params" not in root:
    raise UserError(f"{item} holds no {network or 'classifier'} state with params (keys {sorted(tree)})")
  ema = prefer_ema and bool(root.get("ema"))
  source = root["ema"] if ema else root
  prefix = [k for k in (network, "ema" if ema else "") if k]  # where the wanted leaves sit in the tree
  wanted = {k: source[k] for k in ("params", "batch_stats") if source.get(k)}
  for key in reversed(prefix):
    wanted = {key: wanted}
  args = jax.tree.map(lambda _: ocp.RestoreArgs(restore_type=np.ndarray), wanted)
  restored = ckptr.restore(item, args=ocp.args.PyTreeRestore(item=wanted, restore_args=args, partial_restore=True))
  for key in prefix:
    restored = restored[key]
  step = os.path.basename(directory)
  return {"params": restored["params"], "batch_stats": restored.get("batch_stats") or {}}, int(
      step) if step.isdigit() else 0
