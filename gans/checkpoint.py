"""Orbax checkpoints of train states, with resume from a workdir's latest step.

Orbax writes each step into a temporary directory and renames it when complete, so a run killed at
any moment leaves the previous checkpoints intact; a partly written step is never picked up.
"""
import json
import os

import jax
import numpy as np
import orbax.checkpoint as ocp
from ml_collections import ConfigDict

from gans.errors import UserError


def manager(workdir: str, max_to_keep: int = 3, async_save: bool = True) -> ocp.CheckpointManager:
  """A CheckpointManager over `workdir/checkpoints`."""
  options = ocp.CheckpointManagerOptions(max_to_keep=max_to_keep, create=True,
                                         enable_async_checkpointing=async_save)
  return ocp.CheckpointManager(os.path.join(os.path.abspath(workdir), "checkpoints"), options=options)


def save(mngr: ocp.CheckpointManager, step: int, state) -> None:
  """Saves `state` at `step` (asynchronously when the manager is async)."""
  mngr.save(step, args=ocp.args.StandardSave(state), force=True)


def restore(mngr: ocp.CheckpointManager, abstract_state, step: int | None = None):
  """Restores the latest (or given) step into the shapes/shardings of `abstract_state`.

  Returns (state, step), or (None, 0) when there is no checkpoint.
  """
  step = mngr.latest_step() if step is None else step
  if step is None:
    return None, 0
  target = jax.tree.map(
      lambda x: jax.ShapeDtypeStruct(x.shape, x.dtype, sharding=getattr(x, "sharding", None)), abstract_state)
  try:
    state = mngr.restore(step, args=ocp.args.StandardRestore(target))
  except Exception as e:  # orbax raises many types for unreadable or mismatched files
    where = os.path.join(str(mngr.directory), str(step))
    raise UserError(f"cannot restore checkpoint {where}: {type(e).__name__}: {str(e).splitlines()[0][:200]} "
                    "(corrupt, or saved by a different config; delete it or use a new --workdir)") from e
  return state, step


# --- a workdir's layout: config.json, checkpoints/<step>/default


def load_config(workdir: str) -> ConfigDict:
  """The config a workdir was trained with (written by the train loop as config.json)."""
  path = os.path.join(workdir, "config.json")
  if not os.path.exists(path):
    raise UserError(f"{workdir} holds no trained run (no config.json); train one with launch.train first")
  try:
    with open(path) as f:
      return ConfigDict(json.load(f))
  except (json.JSONDecodeError, UnicodeDecodeError) as e:
    raise UserError(f"{path} is not readable JSON ({e}); the run's config is damaged") from None


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


def load_variables(path: str, prefer_ema: bool = True) -> tuple[dict, int]:
  """({'params', 'batch_stats'} as numpy, step) of the classifier checkpoint at `path` (a workdir, its
  checkpoints dir or a step dir).

  With `prefer_ema`, a run with `ema_decay` > 0 gives its moving averages: the weights its evaluation used.
  """
  directory = step_dir(path)
  item = os.path.join(directory, "default")
  ckptr = ocp.PyTreeCheckpointer()
  try:
    tree = ckptr.metadata(item).item_metadata.tree
  except Exception as e:  # orbax raises many types for unreadable files
    raise UserError(f"cannot read checkpoint {item}: {type(e).__name__}") from e
  if "params" not in tree:
    raise UserError(f"{item} holds no classifier state (keys {sorted(tree)})")
  ema = prefer_ema and bool(tree.get("ema"))
  source = tree["ema"] if ema else tree
  wanted = {k: source[k] for k in ("params", "batch_stats") if k in source}
  wanted = {"ema": wanted} if ema else wanted
  args = jax.tree.map(lambda _: ocp.RestoreArgs(restore_type=np.ndarray), wanted)
  restored = ckptr.restore(item, args=ocp.args.PyTreeRestore(item=wanted, restore_args=args, partial_restore=True))
  restored = restored["ema"] if ema else restored
  return {"params": restored["params"], "batch_stats": restored.get("batch_stats") or {}}, int(
      os.path.basename(directory)) if os.path.basename(directory).isdigit() else 0
