"""Evaluation of trained workdirs: 2-D mode coverage, image metrics with a classifier extractor, the
reference-statistics cache, the evaluate launcher and the curves plot."""
import json
import os
import subprocess
import sys

import jax
import numpy as np
import pytest
import scipy.linalg
from PIL import Image

from configs import cgan, common, dcgan, infogan, nsgan
from gans import runs
from gans.data import pipeline, sources, toy
from gans.errors import UserError
from gans.metrics import evaluator, features, stats
from gans.metrics.mode_coverage import mode_coverage
from gans.train import gan_task, loop
from launch import plot

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture(scope="module")
def ring_dir(tmp_path_factory):
  c = nsgan.get_config("ring8")
  c.model.g_hidden = c.model.d_hidden = (32,)
  c.update(dict(total_steps=30, batch_size=32, log_every=10, eval_every=30, checkpoint_every=30,
                num_devices=1, ema_decay=0.9))
  path = str(tmp_path_factory.mktemp("ring8"))
  loop.train_and_evaluate(c, path)
  return path


@pytest.fixture(scope="module")
def classifier_dir(tmp_path_factory, data_dir):
  """LeNet-5 with a dense head, a few steps on mnist_5k."""
  c = common.classifier_config()
  c.model = {"name": "lenet5", "head": "dense"}
  c.optimizer = common.optimizer("adam", 2e-3)
  c.update(dict(dataset="mnist_5k", data_dir=data_dir, total_steps=2, batch_size=32, log_every=1,
                eval_every=2, checkpoint_every=2, num_devices=1, label_smoothing=0.0))
  path = str(tmp_path_factory.mktemp("lenet"))
  loop.train_and_evaluate(c, path)
  return path


@pytest.fixture(scope="module")
def classifier_ext(classifier_dir):
  return features.get_extractor(f"classifier:{classifier_dir}")


@pytest.fixture(scope="module")
def gan_dir(tmp_path_factory, data_dir):
  c = dcgan.get_config("mnist_5k")
  c.model.g_width = c.model.d_width = 8
  c.model.z_dim = 16
  c.update(dict(total_steps=1, batch_size=16, log_every=1, eval_every=1, checkpoint_every=1, num_devices=1,
                data_dir=data_dir))
  path = str(tmp_path_factory.mktemp("dcgan"))
  loop.train_and_evaluate(c, path)
  return path


def test_toy_run_gets_mode_coverage_of_the_requested_generator(ring_dir):
  _, task, state, step = runs.restore_task(ring_dir)
  ema = runs.evaluate_workdir(ring_dir, num=500, seed=3)
  raw = runs.evaluate_workdir(ring_dir, num=500, seed=3, use_ema=False)
  ema_points = task.sample(state, 500, 3)
  raw_points = task.sample(state.replace(g_ema=None), 500, 3)
  assert not np.allclose(ema_points, raw_points)  # so the flag matters
  for result, points, mode in ((ema, ema_points, "ema"), (raw, raw_points, "raw")):
    expected = mode_coverage(points, toy.modes("ring8"), toy.mode_std("ring8"))
    assert {k: result[k] for k in expected} == expected
    assert result["step"] == step == 30
    assert result["protocol"]["generator"] == mode and result["protocol"]["num_generated"] == 500
    assert result["protocol"]["seed"] == 3


def test_classifier_extractor_gives_head_input_and_logits(classifier_dir, classifier_ext):
  _, task, state, _ = runs.restore_task(classifier_dir)
  ext = classifier_ext
  images = np.random.default_rng(0).integers(0, 256, (7, 28, 28, 1), dtype=np.uint8)
  feats, logits = ext(images)
  assert feats.shape == (7, 84) and logits.shape == (7, 10)
  head = state.params["output"]
  np.testing.assert_allclose(logits, feats @ np.asarray(head["kernel"]) + np.asarray(head["bias"]), rtol=1e-4,
                             atol=1e-4)
  own = task.logits(state, images.astype(np.float32) / 127.5 - 1)  # the run's eval path, value_range(-1,1)
  np.testing.assert_allclose(logits, own, rtol=1e-4, atol=1e-4)
  assert ext.protocol["weights_sha256"] == features.tree_sha256(
      jax.device_get({"params": state.params, "batch_stats": state.batch_stats}))
  assert ext.protocol["features"] == "input of output (84)"


def _fid_scipy(a, b, eps=1e-6):
  """Heusel et al. 2017 eq. 6 with scipy's general matrix square root; eps * I added to both covariances
  when one is near-singular, as documented by `stats.frechet_distance` (barely trained runs here)."""
  s1, s2 = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
  if min(np.linalg.eigvalsh(s1).min(), np.linalg.eigvalsh(s2).min()) < eps:
    s1, s2 = s1 + eps * np.eye(len(s1)), s2 + eps * np.eye(len(s2))
  covmean = scipy.linalg.sqrtm(s1 @ s2).real
  return float(np.sum((a.mean(0) - b.mean(0)) ** 2) + np.trace(s1 + s2 - 2 * covmean))


def test_image_gan_metrics_with_classifier_extractor(gan_dir, classifier_ext, data_dir, tmp_path):
  ext = classifier_ext
  result = runs.evaluate_workdir(gan_dir, num=300, extractor=ext, cache_dir=str(tmp_path))
  # Independent recomputation: samples as launch.sample writes them, the whole test split from tfds.
  _, task, state, step = runs.restore_task(gan_dir)
  fake, _ = ext(features.to_uint8(task.sample(state, 300, 0)))
  real_images = sources.get_builder("mnist_5k", data_dir).as_dataset(split="test", batch_size=-1)["image"]
  real, _ = ext(np.asarray(real_images))
  assert real.shape == (1000, 84)
  assert result["fcd"] == pytest.approx(_fid_scipy(fake.astype(np.float64), real.astype(np.float64)), rel=1e-5)
  assert (result["kid"], result["kid_std"]) == pytest.approx(stats.kernel_inception_distance(fake, real, seed=0))
  assert "fid" not in result and 1 <= result["classifier_score"] <= 10 and 1 <= result["classifier_score_real"]
  assert all(0 <= result[k] <= 1 for k in ("precision", "recall", "coverage")) and result["density"] >= 0
  p = result["protocol"]
  assert result["step"] == step == 1
  assert p["num_generated"] == 300 and p["reference"]["num_real"] == 1000 and p["reference"]["split"] == "test"
  assert p["generator"] == "raw (no EMA kept)" and p["batchnorm"] == "inference (running statistics)"
  assert p["extractor"]["weights_sha256"] == ext.protocol["weights_sha256"]
  assert p["reference_cache"].startswith(str(tmp_path / "ref_stats"))


def test_reference_cache_is_reused_and_invalidated(gan_dir, classifier_ext, tmp_path, monkeypatch):
  config = runs.load_config(gan_dir)
  ext = classifier_ext
  calls = []
  real_images = evaluator._real_images
  monkeypatch.setattr(evaluator, "_real_images", lambda *a: calls.append(a) or real_images(*a))
  ref, protocol, path = evaluator.reference_stats(config, "test", ext, str(tmp_path))
  assert len(calls) == 1 and os.listdir(tmp_path / "ref_stats") == [os.path.basename(path)]
  np.testing.assert_allclose(ref["mu"], ref["features"].astype(np.float64).mean(0), rtol=1e-12)
  with np.load(path) as f:
    assert json.loads(str(f["protocol"])) == protocol

  again, _, path2 = evaluator.reference_stats(config, "test", ext, str(tmp_path))
  assert len(calls) == 1 and path2 == path  # reused
  np.testing.assert_array_equal(again["sigma"], ref["sigma"])

  _, train_protocol, path3 = evaluator.reference_stats(config, "train", ext, str(tmp_path))  # new protocol
  assert len(calls) == 2 and path3 != path and train_protocol["num_real"] == 4000

  with np.load(path) as f:  # a file whose stored protocol differs from what its name promises
    tampered = {k: f[k] for k in f.files}
  tampered["protocol"] = np.array(json.dumps({**protocol, "preprocess": "resize(32)"}))
  np.savez(path, **tampered)
  evaluator.reference_stats(config, "test", ext, str(tmp_path))
  assert len(calls) == 3
  with open(path, "wb") as f:
    f.write(b"not a zip file")
  evaluator.reference_stats(config, "test", ext, str(tmp_path))
  assert len(calls) == 4
  with np.load(path) as f:
    assert json.loads(str(f["protocol"])) == protocol


def test_unknown_or_unavailable_extractors_are_user_errors(monkeypatch, ring_dir):
  with pytest.raises(UserError, match="unknown feature extractor 'inception'"):
    features.get_extractor("inception")
  monkeypatch.delenv(features.FID_WEIGHTS_ENV, raising=False)
  with pytest.raises(UserError, match="GANS_FID_WEIGHTS"):
    features.get_extractor("inception_fid")
  with pytest.raises(UserError, match="not a classifier"):
    features.get_extractor(f"classifier:{ring_dir}")


def test_evaluate_launcher_prints_one_json_line(ring_dir):
  out = subprocess.run([sys.executable, "-m", "launch.evaluate", "--workdir", ring_dir, "--num", "200"],
                       cwd=ROOT, capture_output=True, text=True, timeout=120,
                       env={**os.environ, "XLA_FLAGS": os.environ["GANS_TEST_XLA_FLAGS"]})
  assert out.returncode == 0, out.stderr[-2000:]
  lines = out.stdout.strip().splitlines()
  assert len(lines) == 1
  result = json.loads(lines[0])
  assert 0 <= result["modes_captured"] <= 8 and result["protocol"]["num_generated"] == 200
  assert result["protocol"]["generator"] == "ema"


def test_plot_writes_png(ring_dir, tmp_path):
  series = plot.read_metrics(os.path.join(ring_dir, "metrics.jsonl"))
  assert series["d_loss"][0] == [10, 20, 30] and series["modes_captured"][0] == [30]
  out = plot.plot_curves(series, str(tmp_path / "curves.png"), "ring8")
  with Image.open(out) as img:
    assert img.format == "PNG" and img.width >= 400 and img.height >= 200
  bad = tmp_path / "metrics.jsonl"
  bad.write_text('{"step": 1, "g_loss": "nan"}\n{"step": 2, "g_loss": 0.5}\n')
  steps, values = plot.read_metrics(str(bad))["g_loss"]
  assert steps == [1, 2] and np.isnan(values[0]) and values[1] == 0.5


def test_sample_quality_during_training_lands_in_metrics(classifier_dir, data_dir, tmp_path):
  c = dcgan.get_config("mnist_5k")
  c.model.g_width = c.model.d_width = 8
  c.model.z_dim = 16
  c.update(dict(total_steps=2, batch_size=16, log_every=1, eval_every=1, checkpoint_every=2, num_devices=1,
                data_dir=data_dir, eval_extractor=f"classifier:{classifier_dir}", eval_num_samples=200))
  path = str(tmp_path / "run")
  loop.train_and_evaluate(c, path)
  with open(os.path.join(path, "metrics.jsonl")) as f:
    rows = [json.loads(line) for line in f]
  evals = {r["step"]: r for r in rows if "fcd" in r}
  assert sorted(evals) == [1, 2] and evals[1]["fcd"] != evals[2]["fcd"]
  assert {"classifier_score", "kid", "precision", "recall", "density", "coverage"} <= set(evals[2])
  with open(os.path.join(path, "eval_protocol.json")) as f:
    protocol = json.load(f)
  assert protocol["num_generated"] == 200 and protocol["extractor"]["name"] == "classifier"
  # The same numbers as evaluating the final checkpoint afterwards with the same samples.
  again = runs.evaluate_workdir(path, num=200, extractor=f"classifier:{classifier_dir}", seed=c.seed + 2)
  assert again["fcd"] == pytest.approx(evals[2]["fcd"], rel=1e-6)


def test_reference_points_floor_ceiling_and_table(classifier_ext, data_dir, tmp_path):
  from launch import (
    reference_points,  # pylint: disable=g-import-not-at-top
    tables,  # pylint: disable=g-import-not-at-top
  )
  config = dcgan.get_config("mnist_5k")
  config.model.g_width = config.model.d_width = 8
  config.model.z_dim = 16
  config.data_dir = data_dir
  floor = reference_points.real_vs_real(config, "train", "test", classifier_ext, str(tmp_path))
  builder = sources.get_builder("mnist_5k", data_dir)
  train, _ = classifier_ext(np.asarray(builder.as_dataset(split="train", batch_size=-1)["image"]))
  test, _ = classifier_ext(np.asarray(builder.as_dataset(split="test", batch_size=-1)["image"]))
  assert floor["fcd"] == pytest.approx(_fid_scipy(train.astype(np.float64), test.astype(np.float64)), rel=1e-5)
  ceiling = reference_points.untrained(config, classifier_ext, 300, "test", str(tmp_path))
  assert ceiling["fcd"] > 5 * floor["fcd"]  # noise from an untrained G is far from real digits
  readme = tmp_path / "README.md"
  readme.write_text("x\n<!-- fcd-table:start -->\n<!-- fcd-table:end -->\n")
  body = reference_points.table([("train split (real)", floor), ("untrained", ceiling)], classifier_ext.protocol,
                                300, "test")
  tables.write_between_markers(str(readme), reference_points.MARKERS, body)
  text = readme.read_text()
  assert f"| train split (real) | {floor['fcd']:.4g} |" in text
  assert classifier_ext.protocol["weights_sha256"][:16] in text


def test_shipped_classifier_round_trip(classifier_dir, classifier_ext, data_dir, tmp_path):
  """A classifier exported as the library ships its extractors gives the same features as the run it came from,
  and a damaged file is refused."""
  description = features.export_classifier(classifier_dir, "digits", str(tmp_path), command="test")
  assert description["trained_on"] == "mnist_5k" and description["image_shape"] == [28, 28, 1]
  assert description["test_accuracy"] is not None and features.shipped_names(str(tmp_path)) == ["digits"]
  shipped = features.shipped_extractor("digits", str(tmp_path))
  images = np.random.default_rng(0).integers(0, 256, (5, 28, 28, 1), dtype=np.uint8)
  for a, b in zip(shipped(images), classifier_ext(images)):
    np.testing.assert_allclose(a, b, rtol=1e-6)
  assert shipped.protocol["weights_sha256"] == classifier_ext.protocol["weights_sha256"]
  path = tmp_path / "digits.safetensors"
  path.write_bytes(path.read_bytes()[:-1] + b"\x00")
  with pytest.raises(UserError, match="does not match the sha256"):
    features.shipped_extractor("digits", str(tmp_path))
  with pytest.raises(UserError, match="no shipped classifier 'nope'; shipped: digits"):
    features.shipped_extractor("nope", str(tmp_path))


@pytest.mark.parametrize("name, accuracy", [("mnist_5k", 0.966), ("fashion_mnist", 0.9133)])
def test_the_shipped_classifiers_reach_their_recorded_test_accuracy(name, accuracy, data_dir):
  """The files in gans/metrics/weights load offline and classify the test split as their descriptions say."""
  ext = features.shipped_extractor(name)
  test = sources.get_builder(name, data_dir).as_dataset(split="test", batch_size=-1)
  _, logits = ext(np.asarray(test["image"]))
  assert np.mean(logits.argmax(-1) == np.asarray(test["label"])) == pytest.approx(accuracy, abs=1e-4)
  assert features.default_extractor(name) == f"shipped:{name}" and features.default_extractor("ring8") == (
      "inception_fid")


def test_class_accuracy_counts_hits_per_requested_class():
  logits = np.eye(3)[[0, 1, 2, 2, 1, 0]]  # argmax 0 1 2 2 1 0
  result = evaluator.class_accuracy(logits, np.array([0, 1, 2, 0, 1, 2]))
  assert result == {"class_accuracy": pytest.approx(4 / 6), "class_accuracy_0": 0.5, "class_accuracy_1": 1.0,
                    "class_accuracy_2": 0.5}


def test_conditional_gan_samples_are_scored_by_requested_class(classifier_ext, data_dir, tmp_path):
  c = cgan.get_config("fashion_mnist")
  c.eval_extractor = ""
  c.model.g_width = c.model.d_width = 8
  c.model.z_dim = 16
  c.update(dict(dataset="mnist_5k", total_steps=1, batch_size=16, log_every=1, eval_every=1, checkpoint_every=1,
                num_devices=1, data_dir=data_dir))
  path = str(tmp_path / "cgan")
  loop.train_and_evaluate(c, path)
  result = runs.evaluate_workdir(path, num=200, extractor=classifier_ext, cache_dir=str(tmp_path))
  _, task, state, _ = runs.restore_task(path)
  labels = np.arange(200) % 10
  _, logits = classifier_ext(features.to_uint8(task.sample(state, 200, 0, labels=labels)))
  hit = logits.argmax(1) == labels
  assert result["class_accuracy"] == pytest.approx(hit.mean())
  assert [result[f"class_accuracy_{k}"] for k in range(10)] == pytest.approx([hit[k::10].mean() for k in range(10)])
  assert "i mod 10" in result["protocol"]["class_accuracy"]
  # InfoGAN's category is learned, not a class: no class accuracy.
  info = infogan.get_config("fashion_mnist")
  assert runs.restore_task(path)[1].class_labels == 10
  info.update(dict(dataset="mnist_5k", data_dir=data_dir, num_devices=1))
  assert gan_task.GANTask(info, pipeline.data_spec(info)).class_labels == 0
