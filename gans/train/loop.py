"""`train_and_evaluate(config, workdir)`: the training loop shared by every task.

Sections: workdir -> mesh -> input -> task (models, step) -> sharding -> checkpoint/resume -> loop
(log, evaluate, checkpoint). Metrics stay on device between logging steps.
"""
import json
import logging
import os
import time
from typing import Any, Callable, NamedTuple

import jax
import numpy as np
from ml_collections import ConfigDict

from gans import checkpoint, parallel
from gans import workdir as workdir_lib
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


def _fmt_eta(seconds: float) -> str:
  m, s = divmod(int(seconds), 60)
  return f"{m // 60}h{m % 60:02d}m" if m >= 60 else f"{m}m{s:02d}s"


def _check_finite(ok: bool, step: int, since: int, scalars: dict | None, mngr, workdir: str) -> None:
  """Raises DivergedError when a metric (or, on checkpoint steps, the state) was not finite since `since`,
  naming the newest checkpoint that exists (after pending saves finished) and is intact."""
  if ok:
    return
  checkpoint.finish(mngr)
  good = next((s for s in sorted(mngr.all_steps(), reverse=True) if checkpoint.verify(mngr, s) is None), None)
  bad = {k: float(v) for k, v in (scalars or {}).items() if not np.isfinite(v)}
  when = f"metrics at step {step}: {bad}" if bad else f"metrics or parameters between steps {since + 1} and {step}"
  raise DivergedError(f"non-finite {when}; no checkpoint written after step {since}; last good checkpoint: "
                      + (f"{good} in {workdir}/checkpoints (re-running resumes from it; with a changed config, "
                         "e.g. a lower learning rate, add --allow_config_change)" if good else "none"))


@jax.jit
def _accumulate_finite(ok: jax.Array, metrics) -> jax.Array:
  """ok AND every metric finite (on device: no host round trip per step)."""
  return ok & checkpoint.all_finite(metrics)


def _shut_down(mngr, writer, lock, failed: bool) -> None:
  """Waits for and seals pending checkpoints, closes the metrics writer, releases the lock. Raises the
  first error unless the run is `failed` already (its own error is the one reported)."""
  errors = []
  for close in ((lambda: checkpoint.close(mngr)) if mngr is not None else None,
                writer.close if writer is not None else None, lock.release if lock is not None else None):
    try:
      if close is not None:
        close()
    except Exception as e:  # pylint: disable=broad-except
      errors.append(e)
  if errors and not failed:
    raise errors[0]


def param_counts(state) -> dict[str, int]:
  """Trainable parameters of a state by network: the leaves under a `params` field, grouped by the field
  that holds them (a GAN's `g` and `d`; a classifier's `params`); moving averages and optimizer state excluded."""
  counts = {}
  for path, leaf in jax.tree_util.tree_leaves_with_path(state):
    names = [getattr(k, "name", getattr(k, "key", None)) for k in path]
    if "params" in names and not {"opt_state", "ema", "g_ema", "extra"} & set(map(str, names)):
      owner = str(names[names.index("params") - 1]) if names.index("params") else "params"
      counts[owner] = counts.get(owner, 0) + int(np.prod(leaf.shape))
  return counts


_cache_hits = [0]  # persistent-compilation-cache hits in this process


def _count_cache_hit(event: str, **kwargs):
  if event == "/jax/compilation_cache/cache_hits":
    _cache_hits[0] += 1


jax.monitoring.register_event_listener(_count_cache_hit)


def train_and_evaluate(config: ConfigDict, workdir: str, *, restore_step: int | None = None,
                       allow_config_change: bool = False, stop: workdir_lib.StopOnSignal | None = None):
  """Trains `config` in `workdir`, resuming from its newest intact checkpoint (or `restore_step`).

  Holds the workdir's lock throughout; refuses a config that changes training on resume unless
  `allow_config_change`; stops cleanly on SIGTERM/SIGINT (`stop` records which). Returns the final state.
  """
  # --- workdir, mesh, input spec, task
  workdir = prepare_workdir(workdir)
  if config.total_steps < 1:
    raise UserError(f"total_steps must be positive, got {config.total_steps}")
  for key in ("log_every", "eval_every", "checkpoint_every"):
    if config[key] < 1:
      raise UserError(f"{key} must be positive, got {config[key]}")
  lock = workdir_lib.Lock(workdir) if jax.process_index() == 0 else None
  mngr = writer = None
  failed = False
  try:
    mesh = parallel.mesh_from_config(config)
    t0 = time.time()
    data = pipeline.data_spec(config)  # prepares the dataset the first time
    log.info("data: %s ready in %.1f s (%s training examples of shape %s)", config.dataset, time.time() - t0,
             f"{data.num_examples:,}" if data.num_examples else "streamed", data.shape)
    task = create_task(config, data, mesh)
    init_rng, step_rng = jax.random.split(jax.random.key(config.seed))
    sharded = shard_task(task, mesh, config, init_rng)
    log.info("model: %s parameters", ", ".join(f"{k} {n:,}" for k, n in param_counts(sharded.abstract_state).items()))

    # --- state: resume from the newest intact checkpoint, else initialise on the mesh
    mngr = checkpoint.manager(workdir)
    if jax.process_index() == 0:
      checkpoint.check_writable(mngr)
      workdir_lib.check_and_store_config(workdir, config, restore_step or max(mngr.all_steps(), default=0),
                                         allow_config_change)
    state, start = checkpoint.restore(mngr, sharded.abstract_state, restore_step)
    if state is None:
      state = sharded.init(init_rng)
    else:
      log.info("resumed from %s/checkpoints at step %d", workdir, start)
      if jax.process_index() == 0:
        checkpoint.set_aside(mngr, start)
    writer = writer_lib.MetricsWriter(workdir, start)

    # --- update function and input
    train_step = sharded.step
    batches = pipeline.train_batches(config, mesh, task.examples_per_step, start)
    stop = stop or workdir_lib.StopOnSignal()
    total = config.total_steps
    log.info("training %s for %d steps (from %d) on mesh %s, workdir %s",
             config.get("experiment", "?"), total, start, dict(mesh.shape), workdir)

    # --- loop; `finite` is on device: every metric finite since step `checked`
    t_last, step_last, checked = time.time(), start, start
    t_first = step_first = None  # after the first step: the ETA's rate counts from there (compiles excluded)
    finite = jax.numpy.bool_(True)
    for step in range(start + 1, total + 1):
      if t_first is None:
        log.info("compiling the train step ...")
        hits = _cache_hits[0]
        state, metrics = jax.block_until_ready(train_step(state, next(batches), step_rng))
        log.info("first step in %.1f s (%s)", time.time() - t_last,
                 "step loaded from the compilation cache" if _cache_hits[0] > hits else "step compiled")
        t_first, step_first = time.time(), step
      else:
        state, metrics = train_step(state, next(batches), step_rng)
      finite = _accumulate_finite(finite, metrics)
      checkpoint.poll(mngr)
      is_last = step == total or stop.requested
      is_log = step % config.log_every == 0 or is_last
      is_ckpt = step % config.checkpoint_every == 0 or is_last
      scalars = None
      if is_log or is_ckpt:  # one fetch: the metrics (logging steps), the finite flag (and the state's)
        ok = finite & checkpoint.all_finite(state) if is_ckpt else finite
        scalars, ok = jax.device_get((metrics, ok)) if is_log else (None, np.asarray(ok))
        _check_finite(bool(ok), step, checked, scalars, mngr, workdir)
        checked = step
      if is_log:
        now = time.time()
        rate = (step - step_last) / max(now - t_last, 1e-9)
        t_last, step_last = now, step
        writer.write(step, {**scalars, "steps_per_sec": rate})
        # ETA from the rate since the first step (evaluations and checkpoints included), not the last window's
        overall = (step - step_first) / (now - t_first) if step > step_first else rate
        log.info("step %d/%d  %.2f steps/s  ETA %s  %s", step, total, rate, _fmt_eta((total - step) / overall),
                 "  ".join(f"{k}={float(v):.4f}" for k, v in sorted(scalars.items())))
      if step % config.eval_every == 0 or is_last:
        results = task.evaluate(state, step, workdir)
        if results:
          writer.write(step, results)
          log.info("eval step %d: %s", step, json.dumps({k: float(v) for k, v in results.items()}))
      if is_ckpt:
        checkpoint.save(mngr, step, state)
      if stop.requested:
        log.warning("%s: checkpoint written at step %d, stopping", stop.signal_name, step)
        break
    checkpoint.finish(mngr)
  except BaseException:
    failed = True
    raise
  finally:
    _shut_down(mngr, writer, lock, failed)
  return state
