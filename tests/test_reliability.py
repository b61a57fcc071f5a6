"""Nothing lost, nothing mixed up: non-finite runs, concurrent trainers, changed configs, corrupt checkpoints,
full disks, SIGINT and crash leftovers, on a tiny ring8 GAN."""
import json
import logging
import os
import signal
import subprocess
import sys
import time

import jax
import numpy as np
import pytest

from configs import nsgan
from gans import checkpoint, errors, runs
from gans.train import loop

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TINY_FLAGS = ["--config.g_optimizer.schedule=constant", "--config.d_optimizer.schedule=constant",
              "--config.batch_size=16", "--config.num_devices=1", "--config.eval_every=100000", "--compilation_cache="]


def _tiny(**overrides):
  c = nsgan.get_config("ring8")
  c.model.g_hidden = c.model.d_hidden = (8,)
  c.batch_size = 16
  c.g_optimizer.schedule = c.d_optimizer.schedule = "constant"
  c.update(dict(total_steps=20, log_every=10, eval_every=100000, checkpoint_every=10, num_devices=1), **overrides)
  return c


def _env():
  return {**os.environ, "XLA_FLAGS": os.environ["GANS_TEST_XLA_FLAGS"]}


def _train_cmd(workdir, *flags, hidden="(8,)"):
  return [sys.executable, "-m", "launch.train", "--config", "configs/nsgan.py:ring8", "--workdir", str(workdir),
          *TINY_FLAGS, f"--config.model.g_hidden={hidden}", f"--config.model.d_hidden={hidden}", *flags]


def _saved_steps(workdir) -> list[int]:
  return sorted(int(d) for d in os.listdir(workdir / "checkpoints") if d.isdigit())


def _restore(workdir, step=None):
  """(state, step) of a workdir's checkpoint, through the same checks as a resume."""
  config = runs.load_config(str(workdir))
  task = loop.create_task(config, loop.pipeline.data_spec(config), loop.parallel.make_mesh(1))
  abstract = loop.shard_task(task, loop.parallel.make_mesh(1), config, jax.random.key(0)).abstract_state
  mngr = checkpoint.manager(str(workdir), async_save=False)
  try:
    return checkpoint.restore(mngr, abstract, step)
  finally:
    mngr.close()


def _one_error_line(stderr: str) -> str:
  assert "Traceback" not in stderr, stderr[-3000:]
  lines = [l for l in stderr.splitlines() if l.startswith("error:")]
  assert len(lines) == 1 and stderr.rstrip().endswith(lines[0]), stderr[-3000:]
  return lines[0]


def test_no_checkpoint_after_non_finite_metrics_and_rerun_resumes_from_the_named_one(tmp_path, caplog):
  loop.train_and_evaluate(_tiny(), str(tmp_path))  # checkpoints 10, 20
  bad = _tiny(total_steps=60, log_every=50)  # checkpoints every 10 steps, metrics logged at 50 only
  bad.g_optimizer.learning_rate = bad.d_optimizer.learning_rate = 1e30
  with pytest.raises(errors.DivergedError, match="last good checkpoint: 20 ") as e:
    loop.train_and_evaluate(bad, str(tmp_path), allow_config_change=True)
  assert "non-finite metrics or parameters between steps 21 and 30; no checkpoint written after step 20" in str(e.value)
  assert _saved_steps(tmp_path) == [10, 20]
  for step in (10, 20):  # intact and finite
    assert checkpoint.verify(checkpoint.manager(str(tmp_path), async_save=False), step) is None
    state, _ = _restore(tmp_path, step)
    assert all(np.isfinite(x).all() for x in jax.tree.leaves(state) if np.issubdtype(x.dtype, np.floating))
  caplog.set_level(logging.INFO, "gans")
  state = loop.train_and_evaluate(_tiny(total_steps=30), str(tmp_path), allow_config_change=True)
  assert "resumed from %s/checkpoints at step 20" % tmp_path in caplog.text and int(state.step) == 30


def test_a_second_trainer_is_refused_naming_the_holder_and_kill_9_frees_the_lock(tmp_path):
  holder = subprocess.Popen(
      [sys.executable, "-c", "import sys, time; from gans import workdir; held = workdir.Lock(sys.argv[1]); "
       "print('locked', flush=True); time.sleep(120)", str(tmp_path)],
      cwd=ROOT, stdout=subprocess.PIPE, text=True)
  try:
    assert holder.stdout.readline().strip() == "locked"
    with pytest.raises(errors.UserError, match=f"in use by process {holder.pid} "):
      loop.train_and_evaluate(_tiny(), str(tmp_path))
    assert not os.path.exists(tmp_path / "config.json")  # refused before touching anything
  finally:
    holder.send_signal(signal.SIGKILL)
    holder.wait()
  state = loop.train_and_evaluate(_tiny(total_steps=10), str(tmp_path))  # the kernel dropped the lock
  assert int(state.step) == 10


def test_changed_config_is_refused_allowed_keys_apply_and_overrides_are_recorded(tmp_path):
  loop.train_and_evaluate(_tiny(total_steps=10), str(tmp_path))
  stored = (tmp_path / "config.json").read_text()
  changed = _tiny(total_steps=20, batch_size=32)
  changed.model.d_hidden = (16,)
  with pytest.raises(errors.UserError, match=r"in keys that change training: batch_size \(16 -> 32\), "
                     r"model.d_hidden \(\[8\] -> \[16\]\); use a new --workdir, or --allow_config_change"):
    loop.train_and_evaluate(changed, str(tmp_path))
  assert (tmp_path / "config.json").read_text() == stored
  # total_steps and log_every change nothing trained (constant learning rates): they apply
  state = loop.train_and_evaluate(_tiny(total_steps=20, log_every=5), str(tmp_path))
  assert int(state.step) == 20 and json.load(open(tmp_path / "config.json"))["log_every"] == 5
  cosine = _tiny(total_steps=30, log_every=5)
  cosine.g_optimizer.schedule = "cosine"  # a schedule over total_steps: both keys are refused
  with pytest.raises(errors.UserError, match=r"g_optimizer.schedule \('constant' -> 'cosine'\), total_steps"):
    loop.train_and_evaluate(cosine, str(tmp_path))
  new_lr = _tiny(total_steps=30, log_every=5)
  new_lr.d_optimizer.learning_rate = 1e-4
  loop.train_and_evaluate(new_lr, str(tmp_path), allow_config_change=True)
  history = [json.loads(l) for l in open(tmp_path / "config_history.jsonl")]
  assert [h["from_step"] for h in history] == [0, 10, 20]
  assert history[0]["config"]["log_every"] == 10 and history[1]["changed"] == ["log_every", "total_steps"]
  assert history[2]["changed"] == ["d_optimizer.learning_rate", "total_steps"]
  assert json.load(open(tmp_path / "config.json"))["d_optimizer"]["learning_rate"] == 1e-4


def test_bit_flipped_checkpoint_is_detected_and_the_previous_one_used(tmp_path, caplog):
  loop.train_and_evaluate(_tiny(total_steps=30), str(tmp_path))
  assert _saved_steps(tmp_path) == [10, 20, 30]
  files = [os.path.join(r, f) for r, _, fs in os.walk(tmp_path / "checkpoints" / "30") for f in fs]
  target = max(files, key=os.path.getsize)  # the array data
  data = bytearray(open(target, "rb").read())
  data[len(data) // 2] ^= 0x10
  open(target, "wb").write(bytes(data))
  with pytest.raises(errors.UserError, match="sha256 mismatch in default/"):
    _restore(tmp_path, 30)
  caplog.set_level(logging.INFO, "gans")
  state = loop.train_and_evaluate(_tiny(total_steps=30), str(tmp_path))
  assert f"skipping checkpoint {tmp_path}/checkpoints/30: sha256 mismatch" in caplog.text
  assert f"resumed from {tmp_path}/checkpoints at step 20" in caplog.text and int(state.step) == 30
  assert os.path.exists(tmp_path / "checkpoints_set_aside" / "30")  # kept, out of the way
  assert _restore(tmp_path)[1] == 30  # step 30 written again, intact
  with pytest.raises(errors.UserError, match="no checkpoint 25 in"):
    loop.train_and_evaluate(_tiny(total_steps=30), str(tmp_path), restore_step=25)


def test_partial_metrics_line_after_a_crash_does_not_block_resume(tmp_path):
  loop.train_and_evaluate(_tiny(total_steps=10), str(tmp_path))
  with open(tmp_path / "metrics.jsonl", "a") as f:
    f.write('{"step": 11, "d_lo')  # killed mid-write
  loop.train_and_evaluate(_tiny(total_steps=20), str(tmp_path))
  steps = [json.loads(l)["step"] for l in open(tmp_path / "metrics.jsonl")]
  assert steps == [10, 10, 20, 20]  # training and evaluation rows


def test_file_size_limit_during_a_checkpoint_write_is_one_error_line_and_earlier_checkpoints_survive(tmp_path):
  wide = _tiny()
  wide.model.g_hidden = wide.model.d_hidden = (64, 64)  # array data (~130 kB a checkpoint) outgrows other files
  loop.train_and_evaluate(wide, str(tmp_path))
  sizes = {os.path.join(r, f): os.path.getsize(os.path.join(r, f)) for r, _, fs in os.walk(tmp_path) for f in fs}
  limit_kb = max(v for k, v in sizes.items() if "checkpoints" not in k) // 1024 + 8
  assert max(sizes.values()) > 1024 * limit_kb
  cmd = _train_cmd(tmp_path, "--config.total_steps=40", "--config.log_every=10", "--config.checkpoint_every=10",
                   hidden="(64,64)")
  proc = subprocess.run(["bash", "-c", f'ulimit -f {limit_kb} && exec "$@"', "bash", *cmd],  # SIGXFSZ ignored
                        cwd=ROOT, env=_env(), capture_output=True, text=True, timeout=120)
  assert proc.returncode == 1
  assert _one_error_line(proc.stderr) == (f"error: cannot write checkpoint 30 in {tmp_path}/checkpoints: File too "
                                          "large; checkpoints kept: [10, 20]")
  assert _saved_steps(tmp_path) == [10, 20]
  for step in (10, 20):
    assert _restore(tmp_path, step)[1] == step


def test_sigint_writes_a_checkpoint_and_exits_130(tmp_path):
  err = open(tmp_path / "stderr", "w")
  proc = subprocess.Popen(_train_cmd(tmp_path / "run", "--config.total_steps=1000000", "--config.log_every=100",
                                     "--config.checkpoint_every=1000000"),
                          cwd=ROOT, env=_env(), stdout=subprocess.PIPE, stderr=err, text=True)
  deadline = time.time() + 120
  while "step 100/" not in (tmp_path / "stderr").read_text() and time.time() < deadline:
    time.sleep(0.1)
  proc.send_signal(signal.SIGINT)
  out, _ = proc.communicate(timeout=120)
  assert proc.returncode == 130, (tmp_path / "stderr").read_text()[-3000:]
  steps = _saved_steps(tmp_path / "run")
  assert len(steps) == 1 and 100 <= steps[0] < 1000000
  assert out.strip() == (f"stopped at step {steps[0]} (SIGINT): checkpoint written in {tmp_path / 'run'}; "
                         "run the same command to resume")
  assert _restore(tmp_path / "run")[1] == steps[0]
  assert os.path.exists(tmp_path / "run" / "checkpoint_sha256" / f"{steps[0]}.json")


@pytest.mark.parametrize("content, message", [(None, "cannot load config file {path}: no such file"),
                                              ("def get_config(:\n", "config file {path}, line 1: invalid syntax")])
def test_missing_or_broken_config_file_is_one_line(tmp_path, content, message):
  path = tmp_path / "exp.py"
  if content is not None:
    path.write_text(content)
  proc = subprocess.run([sys.executable, "-m", "launch.train", "--config", str(path), "--workdir",
                         str(tmp_path / "w")], cwd=ROOT, env=_env(), capture_output=True, text=True, timeout=120)
  assert proc.returncode == 2
  assert _one_error_line(proc.stderr) == "error: " + message.format(path=path)
