"""`train_and_evaluate(config, workdir)`: the training loop shared by every task.

Sections: workdir -> mesh -> input -> task (models, step) -> sharding -> checkpoint/resume -> loop
(log, evaluate, checkpoint). Metrics stay on device between logging steps.
"""
import json
import logging
import os
import signal
import time
from typing import Any, Callable, NamedTuple

import jax
import numpy as np
from ml_collections import ConfigDict

from gans import checkpoint, parallel
from gans.data import pipeline
from gans.errors import DivergedError, UserError
from gans.train import writer as writer_lib
from gans.train.task import TASKS, JittedStep, Task

log = logging.getLogger(__name__)


def prepare_workdir(workdir: str) -> str:
  """Creates `workdir` (a UserError when it cannot be created or written)."""
  workdir = os.path.abspath(workdir)
  try:
    os.makedirs(workdir, exist_ok=True)
    probe = os.path.join(workdir, f".write_test_{os.getpid()}")
    with open(probe, "w"):
      pass
    os.remove(probe)
  except OSError as e:
    raise UserError(f"cannot write to workdir {workdir}: {e.strerror}") from None
  return workdir


def create_task(config: ConfigDict, data: pipeline.DataSpec, mesh) -> Task:
  """The task named by `config.task` (a `gans.train.task.TASKS` name: 'gan', 'classifier', ...)."""
  return TASKS.get(config.get("task", "gan"))(config, data, mesh)


# Short names of the XLA:CPU op kinds jaxlib can hand to YNNPACK (DebugOptions.LibraryFusionType).
YNN_FUSION_KINDS = {kind: "LIBRARY_FUSION_TYPE_" + kind.upper()
                    for kind in ("dot", "individual_dot", "individual_convolution", "eltwise", "reduce")}


def compiler_options(config: ConfigDict, mesh) -> dict:
  """XLA options for the train step: on CPU, the op kinds YNNPACK runs, `config.xla_cpu_ynn_fusions`.

  A comma-separated list of `YNN_FUSION_KINDS` keys ("" for none), or "jaxlib" (also a config without the
  key) for jaxlib's own default, which hands convolutions and dots to YNNPACK. On CPU, XLA's own (Eigen)
  convolutions trained faster than YNNPACK's, and YNNPACK's reductions faster than XLA's except over large
  broadcasts (measurements in docs/performance.md).
  """
  setting = config.get("xla_cpu_ynn_fusions", "jaxlib")
  kinds = [] if setting == "jaxlib" else [k for k in map(str.strip, setting.split(",")) if k]
  unknown = sorted(set(kinds) - set(YNN_FUSION_KINDS))
  if unknown:  # checked on every platform, so a typo fails before the run reaches a CPU
    raise UserError(f"config.xla_cpu_ynn_fusions: unknown kinds {unknown}; known: 'jaxlib', or a comma-separated "
                    f"list of {sorted(YNN_FUSION_KINDS)} ('' for none)")
  if mesh.devices.flat[0].platform != "cpu" or setting == "jaxlib":
    return {}
  return {"xla_cpu_experimental_ynn_fusion_type": ",".join(YNN_FUSION_KINDS[k] for k in kinds)}


class ShardedTask(NamedTuple):
  """A task's functions jitted for a mesh, and its state's shapes with their shardings."""
  abstract_state: Any
  init: Callable
  step: JittedStep


def shard_task(task: Task, mesh, config: ConfigDict, rng: jax.Array) -> ShardedTask:
  """Jits `task.init` and `task.step` with the state sharded by `parallel.state_shardings` and the batch
  over the mesh's batch axes; the step donates the old state."""
  abstract = jax.eval_shape(task.init, rng)
  sharding = parallel.state_shardings(abstract, mesh, config.get("sharding_rules", ()))
  abstract = jax.tree.map(lambda x, s: jax.ShapeDtypeStruct(x.shape, x.dtype, sharding=s), abstract, sharding)
  repl = parallel.replicated(mesh)
  options = compiler_options(config, mesh)
  init = jax.jit(task.init, out_shardings=sharding, compiler_options=options)
  step = task.step.jit(in_shardings=(sharding, parallel.data_sharded(mesh), repl), out_shardings=(sharding, repl),
                       donate_argnums=0, compiler_options=options)
  return ShardedTask(abstract, init, step)


class _StopOnSignal:
  """Turns SIGTERM into a clean stop at the next step (a checkpoint is written first)."""

  def __init__(self):
    self.requested = False
    try:
      signal.signal(signal.SIGTERM, self._handle)
    except ValueError:  # not the main thread
      pass

  def _handle(self, signum, frame):
    self.requested = True


def _fmt_eta(seconds: float) -> str:
  m, s = divmod(int(seconds), 60)
  return f"{m // 60}h{m % 60:02d}m" if m >= 60 else f"{m}m{s:02d}s"


def train_and_evaluate(config: ConfigDict, workdir: str):
  """Trains `config` in `workdir`, resuming from its latest checkpoint. Returns the final state."""
  # --- workdir, mesh, input spec, task
  workdir = prepare_workdir(workdir)
  mesh = parallel.mesh_from_config(config)
  data = pipeline.data_spec(config)
  task = create_task(config, data, mesh)
  init_rng, step_rng = jax.random.split(jax.random.key(config.seed))
  sharded = shard_task(task, mesh, config, init_rng)

  # --- state: resume from the latest checkpoint, else initialise on the mesh
  mngr = checkpoint.manager(workdir)
  state, start = checkpoint.restore(mngr, sharded.abstract_state)
  if state is None:
    state = sharded.init(init_rng)
  else:
    log.info("resumed from %s/checkpoints at step %d", workdir, start)
  if jax.process_index() == 0:
    with open(os.path.join(workdir, "config.json"), "w") as f:
      f.write(config.to_json(indent=2))
  writer = writer_lib.MetricsWriter(workdir, start)

  # --- update function and input
  train_step = sharded.step
  batches = pipeline.train_batches(config, mesh, task.examples_per_step, start)
  stop = _StopOnSignal()
  total = config.total_steps
  log.info("training %s for %d steps (from %d) on mesh %s, workdir %s",
           config.get("experiment", "?"), total, start, dict(mesh.shape), workdir)

  # --- loop
  t_last, step_last, metrics = time.time(), start, None
  for step in range(start + 1, total + 1):
    state, metrics = train_step(state, next(batches), step_rng)
    is_last = step == total or stop.requested
    if step % config.log_every == 0 or is_last:
      scalars = jax.device_get(metrics)
      bad = {k: float(v) for k, v in scalars.items() if not np.isfinite(v)}
      if bad:
        raise DivergedError(f"non-finite metrics at step {step}: {bad}; last good checkpoint: "
                            f"{mngr.latest_step() or 'none'} in {workdir}/checkpoints")
      now = time.time()
      rate = (step - step_last) / max(now - t_last, 1e-9)
      t_last, step_last = now, step
      writer.write(step, {**scalars, "steps_per_sec": rate})
      log.info("step %d/%d  %.2f steps/s  ETA %s  %s", step, total, rate, _fmt_eta((total - step) / rate),
                   "  ".join(f"{k}={float(v):.4f}" for k, v in sorted(scalars.items())))
    if step % config.eval_every == 0 or is_last:
      results = task.evaluate(state, step, workdir)
      if results:
        writer.write(step, results)
        log.info("eval step %d: %s", step, json.dumps({k: float(v) for k, v in results.items()}))
    if step % config.checkpoint_every == 0 or is_last:
      checkpoint.save(mngr, step, state)
    if stop.requested:
      log.warning("SIGTERM: checkpoint written at step %d, stopping", step)
      break
  mngr.wait_until_finished()
  mngr.close()
  writer.close()
  return state
