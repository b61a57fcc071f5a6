"""Times a config's train step: compile time, median ms/step after warm-up, throughput, peak memory.

`input_throughput` times the tf.data input pipeline alone, to check it outruns the step.
"""
import resource
import time

import jax
import numpy as np
from ml_collections import ConfigDict

from gans import parallel
from gans.data import pipeline
from gans.train import loop


def input_throughput(config: ConfigDict, batches: int = 50, warmup: int = 5) -> float:
  """Examples per second that `pipeline.train_batches` delivers on its own (as device arrays)."""
  mesh = parallel.mesh_from_config(config)
  it = pipeline.train_batches(config, mesh, config.batch_size * config.get("n_critic", 1))
  for _ in range(warmup):
    jax.block_until_ready(next(it))
  t = time.perf_counter()
  n = 0
  for _ in range(batches):
    n += jax.block_until_ready(next(it))["image"].shape[0]
  return n / (time.perf_counter() - t)


def benchmark(config: ConfigDict, steps: int = 20, warmup: int = 2, input_batches: int = 0) -> dict:
  """Runs `warmup + steps` train steps on one real batch held on device; returns the figures.

  With `input_batches` > 0 it also times that many batches of the input pipeline alone and adds
  `input_images_per_sec` and `input_headroom` (input throughput / step throughput; want >= 5).
  """
  mesh = parallel.mesh_from_config(config)
  task = loop.create_task(config, pipeline.data_spec(config), mesh)
  rng = jax.random.key(config.seed)
  sharded = loop.shard_task(task, mesh, config, rng)
  state = sharded.init(rng)
  batch = next(pipeline.train_batches(config, mesh, task.examples_per_step))
  t0 = time.perf_counter()
  compiled, flops = sharded.step.compile(state, batch, rng)
  compile_s = time.perf_counter() - t0
  times = []
  for i in range(warmup + steps):
    t = time.perf_counter()
    state, metrics = compiled(state, batch, rng)
    jax.block_until_ready((state, metrics))
    if i >= warmup:
      times.append(time.perf_counter() - t)
  ms = float(np.median(times) * 1e3)
  extra = {}
  if input_batches:
    ips = input_throughput(config, input_batches)
    extra = {"input_images_per_sec": round(ips, 1),
             "input_headroom": round(ips / (task.examples_per_step / (ms / 1e3)), 1)}
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
      **extra,
  }
