"""Benchmarks a list of configs and writes its Markdown table into docs/results.md.

  python -m launch.benchmark_table --measure_peak        # every experiment config, and DCGAN at 64x64
  python -m launch.benchmark_table --configs configs/dcgan.py,"configs/dcgan.py:fashion_mnist --config.image_size=64"
  python -m launch.benchmark_table --measure_peak --update --configs configs/biggan_fashion_mnist.py  # one row

The default list has every config in configs/ (a GAN variant's file once per dataset, as
`configs/<variant>.py:<dataset>`) and DCGAN at 64x64. Each entry runs `python -m launch.benchmark --config
<entry> --steps N` in its own process (a fresh compile and peak-memory figure per config). The table
(experiment, devices, ms/step, images/s, achieved GFLOP/s from XLA's cost analysis, % of the fp32 matmul
peak, first-step compile s, peak MB) replaces whatever lies between `<!-- bench-table:start -->` and
`<!-- bench-table:end -->` in docs/results.md (`--readme`). `--measure_peak` times a large jitted fp32 matmul on
this machine for the % column; `--peak_gflops` gives a known figure instead.
"""
import ast
import glob
import importlib.util
import json
import os
import shlex
import subprocess
import sys
import time

from absl import flags

from gans.errors import UserError
from launch import common, tables

START, END = "<!-- bench-table:start -->", "<!-- bench-table:end -->"


def config_datasets(path: str) -> tuple[str, ...]:
  """The `DATASETS = (...)` tuple a config file declares (its get_config(dataset) choices), () if none."""
  with open(path) as f:
    tree = ast.parse(f.read(), path)
  for node in tree.body:
    if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "DATASETS" for t in node.targets):
      return tuple(ast.literal_eval(node.value))
  return ()


def _needs_a_trained_run(path: str) -> bool:
  """Whether a config starts from another run it names (IcGAN's `generator_workdir`): not benchmarkable alone."""
  if config_datasets(path):
    return False
  spec = importlib.util.spec_from_file_location(f"_config_{os.path.basename(path)[:-3]}", path)
  module = importlib.util.module_from_spec(spec)
  spec.loader.exec_module(module)
  return hasattr(module, "get_config") and bool(module.get_config().get("generator_workdir"))


def all_configs(directory: str = "configs") -> list[str]:
  """Every experiment config in `directory` (not common.py), sorted, once per dataset it declares
  (`file.py:dataset`), plus DCGAN on Fashion-MNIST at 64x64."""
  entries = []
  for f in sorted(glob.glob(os.path.join(directory, "*.py"))):
    if os.path.basename(f) not in ("__init__.py", "common.py") and not _needs_a_trained_run(f):
      entries += [f"{f}:{d}" for d in config_datasets(f)] or [f]
  dcgan = os.path.join(directory, "dcgan.py:fashion_mnist")
  return entries + ([f"{dcgan} --config.image_size=64"] if dcgan in entries else [])


flags.DEFINE_list("configs", None, "Config files (`file.py` or `file.py:dataset`), each optionally followed by "
                  "--config.key=value overrides (default: every experiment config in configs/, for each of its "
                  "datasets, and DCGAN at image_size=64).")
flags.DEFINE_integer("steps", 10, "Timed steps per config (launch.benchmark --steps).")
flags.DEFINE_string("readme", "docs/results.md", "File holding the table markers.")
flags.DEFINE_bool("measure_peak", False, "Measure the fp32 matmul peak of this machine first.")
flags.DEFINE_float("peak_gflops", 0.0, "Known fp32 matmul peak in GFLOP/s (used without --measure_peak).")
flags.DEFINE_integer("peak_size", 2048, "Side of the square matrices of the peak measurement.")
flags.DEFINE_bool("update", False, "Measure only --configs and keep the table's other rows and notes: the new rows "
                  "replace those of the same experiment or are appended, with a note of their own.")
FLAGS = flags.FLAGS


def measure_matmul_peak(size: int = 2048, repeats: int = 10) -> float:
  """fp32 GFLOP/s of the fastest of `repeats` jitted [size, size] x [size, size] matmuls.

  The best (not median) run estimates what the hardware can do when undisturbed; 2 * size^3 FLOPs.
  """
  import jax  # pylint: disable=g-import-not-at-top
  import jax.numpy as jnp  # pylint: disable=g-import-not-at-top
  if size < 1 or repeats < 1:
    raise UserError(f"peak size and repeats must be positive, got {size}, {repeats}")
  a = jax.random.normal(jax.random.key(0), (size, size), jnp.float32)
  b = jax.random.normal(jax.random.key(1), (size, size), jnp.float32)
  matmul = jax.jit(lambda x, y: jnp.dot(x, y, precision=jax.lax.Precision.HIGHEST))
  matmul(a, b).block_until_ready()
  best = float("inf")
  for _ in range(repeats):
    t = time.perf_counter()
    matmul(a, b).block_until_ready()
    best = min(best, time.perf_counter() - t)
  return 2.0 * size ** 3 / best / 1e9


def run_benchmark(entry: str, steps: int) -> dict:
  """Runs launch.benchmark for one `config [--config.k=v ...]` entry; returns its JSON row."""
  args = shlex.split(entry)
  cmd = [sys.executable, "-m", "launch.benchmark", "--config", args[0], *args[1:], "--steps", str(steps)]
  proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
  lines = [l for l in proc.stdout.splitlines() if l.startswith("{")]
  if proc.returncode or not lines:
    raise UserError(f"benchmark of {entry!r} failed: {proc.stderr.strip().splitlines()[-1:]}")
  row = json.loads(lines[-1])
  overrides = [a.split("--config.", 1)[1] for a in args[1:] if a.startswith("--config.")]
  if overrides:
    row["experiment"] = f"{row['experiment']} ({', '.join(overrides)})"
  return row


def format_table(rows: list[dict], peak_gflops: float = 0.0) -> str:
  """Markdown table of benchmark rows; the % column is GFLOP/s over `peak_gflops` (blank if 0)."""
  head = ["experiment", "devices", "ms/step", "images/s", "GFLOP/s", "% of matmul peak", "compile s",
          "peak MB"]
  cells = []
  for r in rows:
    gflops = r.get("gflop_per_sec", 0.0)
    pct = f"{100.0 * gflops / peak_gflops:.0f}" if peak_gflops > 0 and gflops else ""
    cells.append([r["experiment"], r["devices"], f"{r['ms_per_step']:.1f}", f"{r['images_per_sec']:.1f}",
                  f"{gflops:.1f}" if gflops else "", pct, f"{r['compile_s']:.1f}", f"{r['peak_rss_mb']:.0f}"])
  return tables.markdown_table(head, cells)


def main(argv):
  del argv
  peak = FLAGS.peak_gflops
  if FLAGS.measure_peak:
    peak = measure_matmul_peak(FLAGS.peak_size)
  entries = FLAGS.configs or all_configs()
  load = os.getloadavg()[0]  # before our own runs add to it
  update = f" --update --configs {','.join(entries)}" if FLAGS.update else ""
  rows = []
  for i, entry in enumerate(entries):
    rows.append(run_benchmark(entry, FLAGS.steps))
    print(f"[{i + 1}/{len(entries)}] {entry}: {rows[-1]['ms_per_step']:.1f} ms/step, "
          f"compile {rows[-1]['compile_s']:.1f} s", file=sys.stderr, flush=True)
  note = (f"\n\nfp32 matmul peak: {peak:.0f} GFLOP/s ({FLAGS.peak_size}^2 jitted matmul, best of 10). "
          f"Load average before measuring: {load:.1f} on {os.cpu_count()} cores; measured on "
          f"{len(os.sched_getaffinity(0))} of them (CPU affinity). "
          f"Regenerate: `python -m launch.benchmark_table --measure_peak{update}`." if peak else "")
  table = format_table(rows, peak) + note
  if FLAGS.update:
    date = time.strftime("%Y-%m-%d")
    lead = f"Rows {', '.join(r['experiment'] for r in rows)} measured {date}: "
    table = tables.merge_table(FLAGS.readme, (START, END), table, lead)
  tables.write_between_markers(FLAGS.readme, (START, END), table)
  print(table)


if __name__ == "__main__":
  common.run(main)
