"""The training loop end to end on tiny configs: outputs, resume equality (also after kill -9), errors."""
import json
import os
import signal
import subprocess
import sys
import time

import jax
import numpy as np
import pytest

from configs import dcgan, nsgan
from gans import errors, runs
from gans.train import loop

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _ring8(**overrides):
  c = nsgan.get_config("ring8")
  c.model.g_hidden = c.model.d_hidden = (32,)
  c.batch_size = 32
  c.g_optimizer.schedule = c.d_optimizer.schedule = "constant"  # resume tests change total_steps
  c.update(dict(total_steps=20, log_every=5, eval_every=10, checkpoint_every=10, num_devices=1), **overrides)
  return c


def _leaves(state):
  return [np.asarray(x) for x in jax.tree.leaves(state)]


def test_train_writes_metrics_samples_and_checkpoints(tmp_path):
  loop.train_and_evaluate(_ring8(), str(tmp_path))
  lines = [json.loads(l) for l in open(tmp_path / "metrics.jsonl")]
  train_steps = [l["step"] for l in lines if "d_loss" in l]
  assert train_steps == [5, 10, 15, 20]
  evals = [l for l in lines if "modes_captured" in l]
  assert [l["step"] for l in evals] == [10, 20] and 0 <= evals[-1]["high_quality"] <= 1
  assert (tmp_path / "samples" / "step_20.png").exists()
  assert sorted(os.listdir(tmp_path / "checkpoints")) == ["10", "20"]
  assert any(f.startswith("events.out.tfevents") for f in os.listdir(tmp_path))
  assert json.load(open(tmp_path / "config.json"))["total_steps"] == 20


def test_metrics_leave_the_device_only_on_logging_steps(tmp_path, monkeypatch):
  fetched = []
  real_get = jax.device_get
  monkeypatch.setattr(jax, "device_get", lambda x: fetched.append(1) or real_get(x))
  loop.train_and_evaluate(_ring8(total_steps=20, log_every=10, eval_every=100, checkpoint_every=100),
                          str(tmp_path))
  assert len(fetched) == 2  # steps 10 and 20


def test_resumed_run_equals_uninterrupted_run(tmp_path):
  full = loop.train_and_evaluate(_ring8(), str(tmp_path / "full"))
  loop.train_and_evaluate(_ring8(total_steps=10), str(tmp_path / "split"))
  resumed = loop.train_and_evaluate(_ring8(), str(tmp_path / "split"))
  assert all(np.array_equal(a, b) for a, b in zip(_leaves(full), _leaves(resumed)))
  steps = [json.loads(l)["step"] for l in open(tmp_path / "split" / "metrics.jsonl")]
  assert steps == sorted(steps)  # no step logged twice


def test_image_run_resumes_with_same_data_order(tmp_path, data_dir):
  def cfg(total):
    c = dcgan.get_config("mnist_5k")
    c.model.g_width = c.model.d_width = 8
    c.update(dict(total_steps=total, batch_size=16, log_every=2, eval_every=4, checkpoint_every=2,
                  num_devices=4, data_dir=data_dir))
    return c
  full = loop.train_and_evaluate(cfg(4), str(tmp_path / "full"))
  loop.train_and_evaluate(cfg(2), str(tmp_path / "split"))
  resumed = loop.train_and_evaluate(cfg(4), str(tmp_path / "split"))
  assert all(np.array_equal(a, b) for a, b in zip(_leaves(full), _leaves(resumed)))
  assert (tmp_path / "full" / "samples" / "step_4.png").exists()


def test_kill_9_then_resume_matches_uninterrupted(tmp_path):
  overrides = ["--config.total_steps=400", "--config.checkpoint_every=40", "--config.log_every=40",
               "--config.eval_every=1000", "--config.num_devices=1", "--config.batch_size=32"]
  cmd = [sys.executable, "-m", "launch.train", "--config", "configs/nsgan.py:ring8",
         "--workdir", str(tmp_path / "run")] + overrides
  env = {**os.environ, "XLA_FLAGS": os.environ["GANS_TEST_XLA_FLAGS"]}
  proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
  ckpts = tmp_path / "run" / "checkpoints"
  deadline = time.time() + 120
  while time.time() < deadline and not (ckpts.exists() and any(d.isdigit() and int(d) >= 120
                                                                for d in os.listdir(ckpts))):
    time.sleep(0.05)
  proc.send_signal(signal.SIGKILL)
  proc.wait()
  killed_at = max(int(d) for d in os.listdir(ckpts) if d.isdigit())
  assert killed_at < 400, "the run finished before it could be killed"
  subprocess.run(cmd, cwd=ROOT, env=env, check=True, capture_output=True)
  _, _, resumed, step = runs.restore_task(str(tmp_path / "run"))
  assert step == 400
  c = nsgan.get_config("ring8")
  c.update(dict(total_steps=400, checkpoint_every=40, log_every=40, eval_every=1000, num_devices=1, batch_size=32))
  full = loop.train_and_evaluate(c, str(tmp_path / "full"))
  assert all(np.array_equal(a, b) for a, b in zip(_leaves(full), _leaves(resumed)))


class _Device:
  def __init__(self, platform):
    self.platform = platform


class _Mesh:
  def __init__(self, platform):
    self.devices = np.array([_Device(platform)])


def _entry(hlo: str) -> str:
  """The ENTRY computation of an HLO module's text (the ops that run, fusions as single calls)."""
  return hlo[hlo.index("ENTRY"):].split("\n}")[0]


@pytest.mark.parametrize("kinds", ["", "reduce", "jaxlib"])
def test_cpu_train_step_hands_to_ynnpack_only_the_op_kinds_asked_for(kinds):
  # A 3x3 conv over 28x28x16 at batch 128 is big enough for jaxlib's default to make it a YNNPACK fusion;
  # BatchNorm-like channel means are the reductions.
  config = _ring8(xla_cpu_ynn_fusions=kinds)
  mesh = jax.make_mesh((1,), ("data",), devices=jax.devices()[:1])
  options = loop.compiler_options(config, mesh)
  x, w = np.ones((128, 28, 28, 16), np.float32), np.ones((3, 3, 16, 16), np.float32)
  conv = lambda x, w: jax.lax.conv_general_dilated(x, w, (1, 1), "SAME",
                                                   dimension_numbers=("NHWC", "HWIO", "NHWC"))
  grad = jax.grad(lambda x, w: (conv(x, w).mean((0, 1, 2)) ** 2).sum(), argnums=(0, 1))
  entry = _entry(jax.jit(grad, compiler_options=options).lower(x, w).compile().as_text())
  xla_convs = entry.count(" convolution(")  # forward, input gradient, kernel gradient
  ynn = [line for line in entry.splitlines() if "__ynn" in line]
  if kinds == "jaxlib":
    assert xla_convs < 3 and ynn
  else:
    assert xla_convs == 3
    assert [("reduce_sum" in line) for line in ynn] == ([True] if kinds == "reduce" else [])
  assert loop.compiler_options(config, _Mesh("gpu")) == {}  # a CPU-only option


def test_unknown_ynn_fusion_kind_is_a_user_error():
  mesh = jax.make_mesh((1,), ("data",), devices=jax.devices()[:1])
  with pytest.raises(errors.UserError, match="unknown kinds \\['convolution'\\]; known: 'jaxlib'"):
    loop.compiler_options(_ring8(xla_cpu_ynn_fusions="reduce,convolution"), mesh)
  with pytest.raises(errors.UserError, match="unknown kinds"):  # also where the option is not passed
    loop.compiler_options(_ring8(xla_cpu_ynn_fusions="reduce,convolution"), _Mesh("gpu"))


def test_unwritable_workdir_is_a_user_error(tmp_path):
  blocker = tmp_path / "file"
  blocker.write_text("x")
  with pytest.raises(errors.UserError, match="cannot write to workdir"):
    loop.train_and_evaluate(_ring8(), str(blocker / "sub"))


def test_nan_loss_stops_with_a_clear_error(tmp_path):
  c = _ring8()
  c.g_optimizer.learning_rate = float("nan")
  with pytest.raises(errors.DivergedError, match="non-finite metrics at step 5"):
    loop.train_and_evaluate(c, str(tmp_path))


def test_param_counts_name_each_network():
  import optax  # pylint: disable=g-import-not-at-top

  from gans import losses  # pylint: disable=g-import-not-at-top
  from gans.models import classifiers  # pylint: disable=g-import-not-at-top
  from gans.models.gan import mlp  # pylint: disable=g-import-not-at-top
  from gans.train import classifier_step, gan_step  # pylint: disable=g-import-not-at-top
  spec = gan_step.GANSpec(generator=mlp.Generator(out_shape=(2,), hidden=(16,)), discriminator=mlp.Discriminator(
      hidden=(8,)), g_tx=optax.adam(1e-3), d_tx=optax.adam(1e-3), loss=losses.get_loss("nsgan"), z_dim=4, ema_decay=0.9)
  state = jax.eval_shape(lambda: gan_step.init_state(spec, jax.random.key(0), (2,)))
  # G: 4*16 + 16 + 16*2 + 2; D: 2*8 + 8 + 8*1 + 1 (the EMA copy and Adam's moments are not counted)
  assert loop.param_counts(state) == {"g": 114, "d": 33}
  lenet = classifiers.create("lenet5", num_classes=10, head="dense")
  cspec = classifier_step.ClassifierSpec(model=lenet, tx=optax.sgd(0.1), num_classes=10, ema_decay=0.9)
  cstate = jax.eval_shape(lambda: classifier_step.init_state(cspec, jax.random.key(0), (28, 28, 1)))
  assert loop.param_counts(cstate) == {"params": 60_850}  # LeNet-5 with a dense head, as configs/lenet5_*
