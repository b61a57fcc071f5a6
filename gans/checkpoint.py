"""Orbax checkpoints of train states, with resume from a workdir's latest step.

Orbax writes each step into a temporary directory and renames it when complete, so a run killed at
any moment leaves the previous checkpoints intact; a partly written step is never picked up.
"""
import os

import jax
import orbax.checkpoint as ocp

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
