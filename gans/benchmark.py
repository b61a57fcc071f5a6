"""Times a config's train step: compile time, median ms/step after warm-up, throughput, peak memory."""
import resource
import time

import jax
import numpy as np
from ml_collections import ConfigDict

from gans import parallel
from gans.data import pipeline
from gans.train import loop


def benchmark(config: ConfigDict, steps: int = 20, warmup: int = 2) -> dict:
  """Runs `warmup + steps` train steps on one real batch held on device; returns the figures."""
  mesh = parallel.mesh_from_config(config)
  task = loop.create_task(config, pipeline.data_spec(config), mesh)
  rng = jax.random.key(config.seed)
  sharded = loop.shard_task(task, mesh, config, rng)
  state = sharded.init(rng)
  batch = next(pipeline.train_batches(config, mesh, task.examples_per_step))
  t0 = time.perf_counter()
  compiled = sharded.step.lower(state, batch, rng).compile()
  compile_s = time.perf_counter() - t0
  cost = compiled.cost_analysis()
  cost = cost[0] if isinstance(cost, (list, tuple)) else cost
  flops = float((cost or {}).get("flops", 0.0))
  times = []
  for i in range(warmup + steps):
    t = time.perf_counter()
    state, metrics = compiled(state, batch, rng)
    jax.block_until_ready((state, metrics))
    if i >= warmup:
      times.append(time.perf_counter() - t)
  ms = float(np.median(times) * 1e3)
  return {
      "experiment": config.get("experiment", "?"),
      "devices": int(mesh.devices.size),
      "batch_size": int(config.batch_size),
      "ms_per_step": round(ms, 2),
      "images_per_sec": round(task.examples_per_step / (ms / 1e3), 1),
      "compile_s": round(compile_s, 2),
      "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
      "gflop_per_step": round(flops / 1e9, 3),
      "gflop_per_sec": round(flops / 1e9 / (ms / 1e3), 1),
  }
