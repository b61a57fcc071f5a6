"""The launchers as a user runs them: the config contract (a file and its dataset argument, `--config.key`
overrides), their outputs, and one-line errors."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TINY = ["--config.total_steps=6", "--config.log_every=3", "--config.eval_every=6", "--config.checkpoint_every=3",
        "--config.batch_size=32", "--config.model.g_hidden=(16,)", "--config.model.d_hidden=(16,)"]


def _run(*args, check=True, **env_vars):
  env = {**os.environ, "XLA_FLAGS": os.environ["GANS_TEST_XLA_FLAGS"], **env_vars}
  proc = subprocess.run([sys.executable, "-m", *args], cwd=ROOT, env=env, capture_output=True, text=True,
                        timeout=300)
  if check and proc.returncode != 0:
    raise AssertionError(f"{args} failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
  return proc


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
  workdir = tmp_path_factory.mktemp("ring8")
  proc = _run("launch.train", "--config", "configs/nsgan.py:ring8", "--workdir", str(workdir), *TINY)
  assert str(workdir) in proc.stdout
  return workdir


def test_train_then_sample(trained, tmp_path):
  out = tmp_path / "s.npz"
  _run("launch.sample", "--workdir", str(trained), "--num", "10", "--out", str(out), "--seed", "3")
  samples = np.load(out)["samples"]
  assert samples.shape == (10, 2) and samples.dtype == np.float32
  again = tmp_path / "t.npz"
  _run("launch.sample", "--workdir", str(trained), "--num", "10", "--out", str(again), "--seed", "3")
  np.testing.assert_array_equal(samples, np.load(again)["samples"])


def test_a_second_run_loads_the_compiled_step_from_the_cache(tmp_path):
  cache = tmp_path / "cache"
  env = {"JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS": "0", "JAX_DEBUG_LOG_MODULES": "jax._src.compiler"}
  runs = [_run("launch.train", "--config", "configs/nsgan.py:ring8", "--workdir", str(tmp_path / name),
               f"--compilation_cache={cache}", *TINY, **env) for name in ("first", "second")]
  assert os.listdir(cache)
  misses = [r.stderr.count("PERSISTENT COMPILATION CACHE MISS") for r in runs]
  hits = [r.stderr.count("Persistent compilation cache hit") for r in runs]
  assert misses[0] >= 3 and hits[0] == 0  # init, train step, sampler, ... compiled and written
  assert misses[1] == 0 and hits[1] == misses[0]  # every one of them loaded by the second run
  # The start says what it is doing, and that the second run's step came from the cache.
  for line in ("data: ring8 ready in", "model: g ", "compiling the train step", "first step in"):
    assert all(line in r.stderr for r in runs), line
  assert "(step compiled)" in runs[0].stderr and "(step loaded from the compilation cache)" in runs[1].stderr


def test_benchmark_prints_one_json_line():
  proc = _run("launch.benchmark", "--config", "configs/nsgan.py:ring8", "--steps", "3", "--config.batch_size=32")
  lines = [l for l in proc.stdout.splitlines() if l.strip()]
  result = json.loads(lines[-1])
  assert set(result) >= {"experiment", "devices", "batch_size", "ms_per_step", "images_per_sec", "compile_s",
                         "peak_rss_mb"}
  assert result["experiment"] == "nsgan_ring8" and result["batch_size"] == 32 and result["ms_per_step"] > 0


def _one_line_error(proc, pattern):
  assert proc.returncode != 0
  lines = proc.stderr.strip().splitlines()
  assert "Traceback" not in proc.stderr, proc.stderr
  assert len(lines) == 1 and pattern in lines[0], proc.stderr


def test_unknown_dataset_is_one_line(tmp_path):
  proc = _run("launch.train", "--config", "configs/nsgan.py:ring8", "--workdir", str(tmp_path),
              "--config.dataset=no_such_dataset_xyz", check=False)
  _one_line_error(proc, "no_such_dataset_xyz")


def test_unknown_config_dataset_is_one_line(tmp_path):
  proc = _run("launch.train", "--config", "configs/nsgan.py:fashion_mnist", "--workdir", str(tmp_path), check=False)
  _one_line_error(proc, "configs/nsgan.py has no dataset 'fashion_mnist'; known: ring8, grid25")


def test_bad_config_key_is_one_line(tmp_path):
  proc = _run("launch.train", "--config", "configs/nsgan.py:ring8", "--workdir", str(tmp_path),
              "--config.no_such_key=1", check=False)
  _one_line_error(proc, "no_such_key")


def test_missing_workdir_for_sample_is_one_line(tmp_path):
  proc = _run("launch.sample", "--workdir", str(tmp_path / "nothing"), "--out", str(tmp_path / "x.npz"), check=False)
  _one_line_error(proc, "no trained run")


def test_table_launchers_can_be_imported_together():
  # The tests import these in one process, where absl flags share one registry: a name defined twice
  # fails at import (as `--configs` once did).
  code = "from launch import benchmark_table, classifier_table, gan_table, plot, quality_table, reference_points"
  subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True, capture_output=True, timeout=300)
