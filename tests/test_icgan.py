"""IcGAN (Perarnau et al. 2016): the encoder losses against hand values, the task end to end on a tiny
class-conditional BigGAN it trains first (configs/biggan_fashion_mnist.py, shrunk), and launch.edit."""
import json
import os
import subprocess
import sys

import jax
import numpy as np
import pytest

from configs import biggan_fashion_mnist, icgan_fashion_mnist
from gans import runs
from gans.data import eval_input
from gans.errors import UserError
from gans.metrics import features
from gans.train import gan_step, icgan_task, loop

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TINY = dict(total_steps=2, batch_size=8, log_every=1, eval_every=2, checkpoint_every=2, num_devices=1,
            dataset="mnist_5k")


def test_encoder_losses_hand_values():
  z_pred, z = np.array([[1.0, 2.0], [0.0, 0.0]]), np.array([[0.0, 0.0], [1.0, 1.0]])
  np.testing.assert_allclose(icgan_task.encoder_z_loss(z_pred, z), (5.0 + 2.0) / 2, rtol=1e-6)
  logits, labels = np.array([[0.0, np.log(3.0)], [np.log(4.0), 0.0]]), np.array([1, 1])
  expected = (-np.log(3 / 4) - np.log(1 / 5)) / 2  # softmax of [0, ln 3] is [1/4, 3/4]; of [ln 4, 0] [4/5, 1/5]
  np.testing.assert_allclose(icgan_task.encoder_y_loss(logits, labels), expected, rtol=1e-6)


@pytest.fixture(scope="module")
def generator_dir(tmp_path_factory, data_dir):
  """configs/biggan_fashion_mnist.py with tiny widths for 2 steps (on mnist_5k, also 28x28 grayscale)."""
  c = biggan_fashion_mnist.get_config()
  c.model.update(g_ch=2, d_ch=2, z_dim=8)
  c.update(data_dir=data_dir, standing_stats_batches=2, standing_stats_batch_size=4, **TINY)
  path = str(tmp_path_factory.mktemp("biggan"))
  loop.train_and_evaluate(c, path)
  return path


@pytest.fixture(scope="module")
def icgan_dir(tmp_path_factory, data_dir, generator_dir):
  c = icgan_fashion_mnist.get_config()
  c.update(data_dir=data_dir, generator_workdir=generator_dir, eval_num_examples=16, **TINY)
  path = str(tmp_path_factory.mktemp("icgan"))
  loop.train_and_evaluate(c, path)
  return path


@pytest.fixture(scope="module")
def restored(icgan_dir, generator_dir):
  """(IcGAN task, its state, the GAN run's task and its sampling state)."""
  _, icgan, state, _ = runs.restore_task(icgan_dir)
  gen_config, gan, gen_state, _ = runs.restore_task(generator_dir)
  return icgan, state, gan, gan.sampling_state(gen_state, gen_config.seed)


def test_biggan_config_trains_end_to_end(generator_dir):
  lines = [json.loads(line) for line in open(os.path.join(generator_dir, "metrics.jsonl"))]
  train = [line for line in lines if "d_loss" in line]
  assert [line["step"] for line in train] == [1, 2]
  assert all(np.isfinite(line[k]) for line in train for k in ("d_loss", "g_loss", "g_ortho"))
  assert os.path.exists(os.path.join(generator_dir, "samples", "step_2.png"))


def test_icgan_trains_two_steps_and_evaluates(icgan_dir, restored):
  lines = [json.loads(line) for line in open(os.path.join(icgan_dir, "metrics.jsonl"))]
  assert [line["step"] for line in lines if "encoder_z_loss" in line] == [1, 2]
  result = [line for line in lines if "test_accuracy" in line][-1]
  assert 0 <= result["test_accuracy"] <= 1
  assert result["z_reconstruction_error"] > 0 and result["image_reconstruction_mse"] > 0
  # Edit accuracy, recomputed: each of the 16 test images edited to the 9 other classes, scored by the
  # shipped Fashion-MNIST LeNet-5.
  icgan, state, _, _ = restored
  images, labels = eval_input.split_arrays(icgan.config, "test")
  images, labels = images[:16], labels[:16]
  targets = np.array([(y + j) % 10 for y in labels for j in range(1, 10)])
  _, logits = features.get_extractor("shipped:fashion_mnist")(
      features.to_uint8(icgan.edit(state, np.repeat(images, 9, 0), targets)))
  assert result["edit_accuracy"] == pytest.approx(np.mean(logits.argmax(1) == targets))
  assert result["edit_accuracy_3"] == pytest.approx(np.mean(logits.argmax(1)[targets == 3] == 3))
  assert os.path.exists(os.path.join(icgan_dir, "samples", "edits_step_2.png"))
  # The frozen generator is the GAN run's EMA generator with its standing statistics.
  _, state, _, sampling = restored
  for a, b in zip(jax.tree.leaves(state.generator.g.params), jax.tree.leaves(sampling.g_ema)):
    np.testing.assert_array_equal(a, b)
  for a, b in zip(jax.tree.leaves(state.generator.g.batch_stats), jax.tree.leaves(sampling.g.batch_stats)):
    np.testing.assert_array_equal(a, b)


def _run(*args):
  env = {**os.environ, "XLA_FLAGS": os.environ["GANS_TEST_XLA_FLAGS"]}
  return subprocess.run([sys.executable, "-m", *args], cwd=ROOT, env=env, capture_output=True, text=True,
                        timeout=600)


def test_launch_edit_is_the_generator_on_encoded_z_with_new_labels(icgan_dir, restored, tmp_path):
  images = np.random.default_rng(0).integers(0, 256, (3, 32, 32, 1), dtype=np.uint8)
  np.savez(tmp_path / "in.npz", images=images)
  proc = _run("launch.edit", "--workdir", icgan_dir, "--input", str(tmp_path / "in.npz"), "--labels", "3,7,1",
              "--out", str(tmp_path / "out.npz"), "--png", str(tmp_path / "grid.png"))
  assert proc.returncode == 0, proc.stderr[-3000:]
  edited = np.load(tmp_path / "out.npz")["edited"]
  assert edited.shape == (3, 32, 32, 1) and (tmp_path / "grid.png").exists()
  # Independently: E_z's output fed to the GAN run's own sampling generator with the one-hot new labels.
  icgan, state, gan, sampling = restored
  x = images.astype(np.float32) / 127.5 - 1
  z = icgan.e_z.apply({"params": state.e_z.params}, x, train=False)
  expected = gan_step.generate(gan.spec, sampling, z, np.eye(10, dtype=np.float32)[[3, 7, 1]])
  np.testing.assert_allclose(edited, expected, rtol=1e-4, atol=1e-5)
  assert not np.allclose(edited[0], icgan.edit(state, x[:1], [4])[0], atol=1e-3)  # the label matters
  with pytest.raises(UserError, match=r"labels must be 1 integers in \[0, 10\)"):
    icgan.edit(state, x[:1], [10])


def test_launch_edit_bad_labels_are_one_error_line(tmp_path):
  np.savez(tmp_path / "in.npz", images=np.zeros((2, 32, 32, 1), np.uint8))
  proc = _run("launch.edit", "--workdir", str(tmp_path), "--input", str(tmp_path / "in.npz"), "--labels", "3,x",
              "--out", str(tmp_path / "out.npz"))
  lines = proc.stderr.strip().splitlines()
  assert proc.returncode != 0 and "Traceback" not in proc.stderr
  assert lines == ["error: --labels must be integers, got 3,x"], proc.stderr
