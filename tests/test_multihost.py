"""Two processes on 127.0.0.1 (gloo CPU collectives) train like one process with the same global batch."""
import os
import socket
import subprocess
import sys

import numpy as np
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WORKER = os.path.join(ROOT, "tests", "multihost_worker.py")


def _free_port():
  with socket.socket() as s:
    s.bind(("127.0.0.1", 0))
    return s.getsockname()[1]


def _load(path):
  with np.load(path) as f:
    return [f[k] for k in sorted(f.files, key=lambda k: int(k.split("_")[1]))]


# nsgan on ring8 jits its step whole; wgan on ring8 (n_critic = 5) as a gan_step.SplitStep of two jitted parts.
@pytest.mark.parametrize("config", ["nsgan:ring8", "wgan:ring8"])
def test_two_processes_match_one_process(tmp_path, config):
  env = {**os.environ, "XLA_FLAGS": os.environ["GANS_TEST_XLA_FLAGS"]}  # one CPU device per process
  port = str(_free_port())
  procs = [subprocess.Popen([sys.executable, WORKER, str(i), "2", port, str(tmp_path / "two"),
                             str(tmp_path / f"p{i}.npz"), config], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) for i in range(2)]
  for p in procs:
    out, _ = p.communicate(timeout=300)
    assert p.returncode == 0, out[-3000:]
  subprocess.run([sys.executable, WORKER, "0", "1", "0", str(tmp_path / "one"), str(tmp_path / "one.npz"), config],
                 cwd=ROOT, env=env, check=True, capture_output=True, timeout=300)
  p0, p1, one = _load(tmp_path / "p0.npz"), _load(tmp_path / "p1.npz"), _load(tmp_path / "one.npz")
  assert all(np.array_equal(a, b) for a, b in zip(p0, p1)), "the two processes diverged"
  max_diff = max(float(np.max(np.abs(a - b))) for a, b in zip(p0, one))
  assert max_diff < 1e-5, max_diff
  assert sorted(os.listdir(tmp_path / "two" / "checkpoints")) == ["12", "6"]
