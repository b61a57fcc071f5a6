"""ProGAN training: the growth schedule, the reals at each resolution, the WGAN-GP + drift loss against hand
values, and a run killed (or stopped) in the middle of a fade-in resuming to the uninterrupted run's state."""
import json
import os
import signal
import subprocess
import sys
import time

import jax
import jax.numpy as jnp
import numpy as np

from configs import progan_fashion_mnist
from gans import runs
from gans.data import pipeline
from gans.train import loop, progan_task

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TINY = {"model.fmap_base": 16, "model.fmap_max": 8, "model.z_dim": 8, "image_size": 8, "batch_size": 4,
        "dataset": "mnist_5k", "num_devices": 1}


def _config(data_dir, **overrides):
  c = progan_fashion_mnist.get_config()
  for key, value in {**TINY, "data_dir": data_dir, **overrides}.items():
    *parents, leaf = key.split(".")
    node = c
    for p in parents:
      node = node[p]
    node[leaf] = value
  return c


def _leaves(state):
  return [np.asarray(x) for x in jax.tree.leaves(state)]


def test_phase_is_a_function_of_the_step():
  s = progan_task.Schedule(max_lod=3, images_per_phase=8, batch_size=4)  # two steps per phase
  expected = [(3, 1), (3, 1), (2, 0), (2, .5), (2, 1), (2, 1), (1, 0), (1, .5), (1, 1), (1, 1), (0, 0), (0, .5),
              (0, 1), (0, 1), (0, 1), (0, 1)]
  assert [(s.lod(i), float(s.alpha(i))) for i in range(16)] == expected
  assert float(s.alpha(jnp.asarray(3))) == 0.5  # traced alike


def test_reals_are_pooled_to_the_resolution_and_blended_during_fade_in():
  x = np.random.default_rng(0).normal(size=(2, 16, 16, 3)).astype(np.float32)
  pool = lambda a, f: a.reshape(a.shape[0], a.shape[1] // f, f, a.shape[2] // f, f, -1).mean(axis=(2, 4))
  x8 = pool(x, 2)
  coarse = np.repeat(np.repeat(pool(x8, 2), 2, axis=1), 2, axis=2)
  np.testing.assert_allclose(progan_task.real_at(jnp.asarray(x), 1, 0.25), 0.25 * x8 + 0.75 * coarse, atol=1e-6)
  np.testing.assert_allclose(progan_task.real_at(jnp.asarray(x), 1, 1.0), x8, atol=1e-6)
  np.testing.assert_allclose(progan_task.real_at(jnp.asarray(x), 2, 0.0), pool(x, 4), atol=1e-6)  # 4x4: no fade


def test_critic_loss_with_gradient_penalty_and_drift_matches_hand_value():
  rng = np.random.default_rng(1)
  real, fake = rng.normal(size=(2, 5, 4, 4, 1)).astype(np.float32)
  w = rng.normal(size=(4, 4, 1)).astype(np.float32)
  critic = lambda v: jnp.sum(v * w, axis=(1, 2, 3))  # gradient w everywhere: GP = (||w|| - 1)^2
  loss, _ = progan_task.d_loss(critic, jnp.asarray(real), jnp.asarray(fake), jax.random.key(0), 10.0, 0.001)
  d_real, d_fake = (real * w).sum(axis=(1, 2, 3)), (fake * w).sum(axis=(1, 2, 3))
  expected = d_fake.mean() - d_real.mean() + 10 * (np.linalg.norm(w) - 1) ** 2 + 0.001 * np.mean(d_real ** 2)
  np.testing.assert_allclose(loss, expected, rtol=1e-4)


def test_compiled_step_is_the_full_resolution_one(data_dir):
  # A benchmark times what `compile` returns against its FLOP count: both must be of the last (32x32) phase,
  # not of the 4x4 phase where a new state's step would put the schedule.
  c = _config(data_dir)
  task = loop.create_task(c, pipeline.data_spec(c), None)
  state, batch, rng = task.init(jax.random.key(0)), {"image": jnp.zeros((4, 8, 8, 1))}, jax.random.key(1)
  step = task.step.jit()
  compiled, flops = step.compile(state, batch, rng)
  _, metrics = compiled(state, batch, rng)
  assert task.spec.schedule.lod(0) == 1 and float(metrics["resolution"]) == 8
  assert flops > 2 * progan_task.flops(step.for_lod(1).lower(state, batch, rng).compile()) > 0


def test_stopped_in_a_fade_in_and_resumed_equals_uninterrupted(tmp_path, data_dir):
  # 2 steps per phase: steps 1-2 at 4x4, 3-4 fade in 8x8 (split after step 3), 5-6 stable.
  cfg = lambda total: _config(data_dir, total_steps=total, log_every=1, eval_every=6, checkpoint_every=1,
                              **{"progan.images_per_phase": 8})
  full = loop.train_and_evaluate(cfg(6), str(tmp_path / "full"))
  loop.train_and_evaluate(cfg(3), str(tmp_path / "split"))
  resumed = loop.train_and_evaluate(cfg(6), str(tmp_path / "split"))
  assert all(np.array_equal(a, b) for a, b in zip(_leaves(full), _leaves(resumed)))
  lines = [json.loads(line) for line in open(tmp_path / "full" / "metrics.jsonl")]
  assert [(line["resolution"], line["alpha"]) for line in lines if "alpha" in line] == [
      (4, 1), (4, 1), (8, 0), (8, .5), (8, 1), (8, 1)]
  assert (tmp_path / "full" / "samples" / "growth_step_6.png").exists()
  assert (tmp_path / "full" / "samples" / "step_6.png").exists()


def test_kill_9_in_a_fade_in_then_resume_matches_uninterrupted(tmp_path, data_dir):
  # 100 steps per phase: 1-100 at 4x4, 101-200 fade in 8x8, 201-300 stable; killed after a checkpoint in 120-200.
  settings = {**TINY, "data_dir": data_dir, "total_steps": 300, "checkpoint_every": 20, "log_every": 20,
              "eval_every": 1000, "progan.images_per_phase": 400}
  cmd = [sys.executable, "-m", "launch.train", "--config", "configs/progan_fashion_mnist.py",
         "--workdir", str(tmp_path / "run")] + [f"--config.{k}={v}" for k, v in settings.items()]
  env = {**os.environ, "XLA_FLAGS": os.environ["GANS_TEST_XLA_FLAGS"]}
  proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
  ckpts = tmp_path / "run" / "checkpoints"
  deadline = time.time() + 300
  while time.time() < deadline and not (ckpts.exists() and any(d.isdigit() and int(d) >= 120
                                                                for d in os.listdir(ckpts))):
    time.sleep(0.02)
  proc.send_signal(signal.SIGKILL)
  proc.wait()
  killed_at = max(int(d) for d in os.listdir(ckpts) if d.isdigit())
  assert 100 < killed_at < 200, f"not killed in the fade-in (last checkpoint {killed_at})"
  subprocess.run(cmd, cwd=ROOT, env=env, check=True, capture_output=True)
  _, _, resumed, step = runs.restore_task(str(tmp_path / "run"))
  assert step == 300
  # The uninterrupted run in a process set up alike (XLA:CPU's convolutions may round differently in a
  # process with another number of host devices).
  full_cmd = [*cmd[:cmd.index("--workdir") + 1], str(tmp_path / "full"), *cmd[cmd.index("--workdir") + 2:]]
  subprocess.run(full_cmd, cwd=ROOT, env=env, check=True, capture_output=True)
  _, _, full, _ = runs.restore_task(str(tmp_path / "full"))
  assert all(np.array_equal(a, b) for a, b in zip(_leaves(full), _leaves(resumed)))
