"""Classifier training: loss and metrics against hand formulas, label smoothing, freezing, init_from,
flip TTA, purity, 1 vs 4 devices, padded evaluation, new preprocessing ops, and one end-to-end run."""
import json
import math
import os
from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest
import tensorflow as tf

from configs import common
from gans import checkpoint, errors, parallel, runs
from gans.data import eval_input, preprocess, sources
from gans.data.pipeline import DataSpec
from gans.models import classifiers
from gans.train import classifier_step, classifier_task, loop

K = 10


class Tiny(nn.Module):
  """Conv -> BN -> ReLU -> mean pool -> dropout -> Dense: every feature the step must handle."""
  num_classes: int = K
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, x, train=False):
    x = nn.Conv(4, (3, 3), strides=2, dtype=self.dtype, name="conv")(x.astype(self.dtype))
    x = nn.BatchNorm(use_running_average=not train, momentum=0.9, dtype=self.dtype, name="bn")(x)
    x = nn.relu(x).mean((1, 2))
    x = nn.Dropout(0.2, deterministic=not train)(x)
    return nn.Dense(self.num_classes, dtype=self.dtype, name="head")(x).astype(jnp.float32)


class Identity(nn.Module):
  """logits = scale * flattened image, scale starting at 1: hand-made logits go straight through."""
  num_classes: int = K

  @nn.compact
  def __call__(self, x, train=False):
    return x.reshape(x.shape[0], -1) * self.param("scale", nn.initializers.ones, ())


@pytest.fixture
def tiny(monkeypatch):
  """Registers `tiny` (and `identity`) for the duration of one test."""
  classifiers.names()  # load the real families first
  monkeypatch.setitem(classifiers.MODELS._items, "tiny",
                      lambda num_classes, small_inputs=False, dtype=jnp.float32: Tiny(num_classes, dtype))
  monkeypatch.setitem(classifiers.MODELS._items, "identity",
                      lambda num_classes, small_inputs=False: Identity(num_classes))


def _config(**overrides):
  c = common.classifier_config()
  c.model = {"name": "tiny", "small_inputs": True, "dtype": "float32"}
  c.total_steps = 100
  c.optimizer = common.optimizer("sgd", 0.1, momentum=0.9, weight_decay=1e-3)
  c.update(overrides)
  return c


def _task(c, shape=(8, 8, 1), devices=1):
  return classifier_task.ClassifierTask(c, DataSpec(shape, K, 100), parallel.make_mesh(devices))


def _batch(n=8, shape=(8, 8, 1), seed=0):
  rng = np.random.default_rng(seed)
  return {"image": jnp.asarray(rng.normal(size=(n, *shape)), jnp.float32),
          "label": jnp.asarray(rng.integers(0, K, n), jnp.int32)}


def _log_softmax(z):
  z = np.asarray(z, np.float64)
  return z - np.log(np.exp(z - z.max(-1, keepdims=True)).sum(-1, keepdims=True)) - z.max(-1, keepdims=True)


def test_cross_entropy_golden_values():
  logits = np.array([[2.0, 0.0, 0.0], [0.0, 0.0, 0.0]])
  got = classifier_step.cross_entropy(jnp.asarray(logits), jnp.array([0, 2]), 3)
  np.testing.assert_allclose(got, [math.log(1 + 2 * math.exp(-2)), math.log(3)], rtol=1e-6)
  # Label smoothing alpha: targets (1 - alpha) one_hot + alpha / K, so for [2, 0, 0], label 0, alpha 0.3:
  # targets [0.8, 0.1, 0.1] and CE = logsumexp - 0.8 * 2.
  got = classifier_step.cross_entropy(jnp.asarray(logits[:1]), jnp.array([0]), 3, label_smoothing=0.3)
  np.testing.assert_allclose(got, [math.log(math.exp(2) + 2) - 1.6], rtol=1e-6)


def test_label_smoothing_is_mixture_of_hard_and_uniform_losses():
  rng = np.random.default_rng(1)
  logits, labels, alpha = rng.normal(size=(6, K)) * 3, rng.integers(0, K, 6), 0.1
  logp = _log_softmax(logits)
  hard = -logp[np.arange(6), labels]
  uniform = -logp.mean(-1)
  got = classifier_step.cross_entropy(jnp.asarray(logits, jnp.float32), jnp.asarray(labels), K, alpha)
  np.testing.assert_allclose(got, (1 - alpha) * hard + alpha * uniform, rtol=1e-5)


def test_train_step_metrics_match_hand_computed_loss_and_accuracy(tiny):
  logits = np.array([[3.0, 1.0, 0.0], [0.0, 2.0, 0.5], [1.0, 1.0, 4.0], [0.2, 0.1, 0.0]], np.float32)
  labels = np.array([0, 0, 2, 1])  # predictions 0, 1, 2, 0: two right
  c = _config(label_smoothing=0.2)
  c.model = {"name": "identity"}
  task = classifier_task.ClassifierTask(c, DataSpec((1, 1, 3), 3, 4), parallel.make_mesh(1))
  state = task.init(jax.random.key(0))
  _, metrics = task.step(state, {"image": jnp.asarray(logits[:, None, None, :]), "label": jnp.asarray(labels)},
                         jax.random.key(1))
  targets = np.eye(3)[labels] * 0.8 + 0.2 / 3
  expected = -(targets * _log_softmax(logits)).sum(-1).mean()
  np.testing.assert_allclose(metrics["loss"], expected, rtol=1e-6)
  assert float(metrics["accuracy"]) == 0.5


def test_step_is_pure_and_updates_params_and_batch_stats(tiny):
  task = _task(_config())
  state = task.init(jax.random.key(0))
  before = [np.array(x) for x in jax.tree.leaves(state)]
  step = jax.jit(task.step)
  s1, m1 = step(state, _batch(), jax.random.key(1))
  s2, m2 = step(state, _batch(), jax.random.key(1))
  assert all(np.array_equal(a, b) for a, b in zip(before, jax.tree.leaves(state)))  # input untouched
  assert all(np.array_equal(a, b) for a, b in zip(jax.tree.leaves(s1), jax.tree.leaves(s2)))
  assert float(m1["loss"]) == float(m2["loss"])
  assert int(s1.step) == 1
  assert not np.allclose(s1.params["conv"]["kernel"], state.params["conv"]["kernel"])
  assert not np.allclose(s1.batch_stats["bn"]["mean"], state.batch_stats["bn"]["mean"])
  s3, _ = step(state, _batch(), jax.random.key(2))  # another rng: another dropout mask
  assert not np.allclose(s3.params["head"]["kernel"], s1.params["head"]["kernel"])


def test_one_and_four_devices_match(tiny):
  results = []
  for devices in (1, 4):
    mesh = parallel.make_mesh(devices)
    task = _task(_config(), devices=devices)
    repl, data = parallel.replicated(mesh), parallel.data_sharded(mesh)
    state = jax.jit(task.init, out_shardings=repl)(jax.random.key(0))
    step = jax.jit(task.step, in_shardings=(repl, data, repl), out_shardings=(repl, repl))
    for i in range(3):
      batch = jax.device_put(_batch(16, seed=i), data)
      state, metrics = step(state, batch, jax.random.key(1))
    results.append((jax.tree.leaves(state), float(metrics["loss"])))
  for a, b in zip(results[0][0], results[1][0]):
    np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
  np.testing.assert_allclose(results[0][1], results[1][1], rtol=1e-5)


def test_weight_decay_skips_biases_and_norm_parameters(tiny):
  c = _config()
  c.optimizer = common.optimizer("sgd", 1.0, momentum=0.0, weight_decay=0.1)
  spec = classifier_task.build_spec(c, K)
  params = jax.tree.map(jnp.ones_like, _task(c).init(jax.random.key(0)).params)
  updates, _ = spec.tx.update(jax.tree.map(jnp.zeros_like, params), spec.tx.init(params), params)
  np.testing.assert_allclose(updates["conv"]["kernel"], -0.1)
  np.testing.assert_allclose(updates["head"]["kernel"], -0.1)
  for leaf in (updates["conv"]["bias"], updates["bn"]["scale"], updates["bn"]["bias"], updates["head"]["bias"]):
    np.testing.assert_array_equal(leaf, 0.0)


def test_frozen_params_and_their_stats_stay_fixed_while_others_train(tiny):
  task = _task(_config(freeze="^(conv|bn)/"))
  state = task.init(jax.random.key(0))
  new = state
  for i in range(2):
    new, _ = jax.jit(task.step)(new, _batch(seed=i), jax.random.key(1))
  for name in ("conv", "bn"):
    for a, b in zip(jax.tree.leaves(state.params[name]), jax.tree.leaves(new.params[name])):
      np.testing.assert_array_equal(a, b)
  for a, b in zip(jax.tree.leaves(state.batch_stats), jax.tree.leaves(new.batch_stats)):
    np.testing.assert_array_equal(a, b)
  assert not np.allclose(state.params["head"]["kernel"], new.params["head"]["kernel"])
  with pytest.raises(errors.UserError, match="matches no parameter"):
    _task(_config(freeze="^nothing")).init(jax.random.key(0))
  with pytest.raises(errors.UserError, match="bad regular expression"):
    _task(_config(freeze="("))


def test_init_from_copies_matching_params_and_replaces_the_head(tiny, tmp_path):
  source = _task(_config())
  saved, _ = jax.jit(source.step)(source.init(jax.random.key(5)), _batch(), jax.random.key(1))
  mngr = checkpoint.manager(str(tmp_path / "src"), async_save=False)
  checkpoint.save(mngr, 1, saved)
  mngr.close()
  c = _config(init_from=str(tmp_path / "src"))
  target = classifier_task.ClassifierTask(c, DataSpec((8, 8, 1), 5, 100), parallel.make_mesh(1))
  state = jax.jit(target.init)(jax.random.key(0))
  fresh = classifier_task.ClassifierTask(_config(), DataSpec((8, 8, 1), 5, 100),
                                         parallel.make_mesh(1)).init(jax.random.key(0))
  for name in ("conv", "bn"):
    for a, b in zip(jax.tree.leaves(saved.params[name]), jax.tree.leaves(state.params[name])):
      np.testing.assert_array_equal(a, b)
  for a, b in zip(jax.tree.leaves(saved.batch_stats), jax.tree.leaves(state.batch_stats)):
    np.testing.assert_array_equal(a, b)
  assert state.params["head"]["kernel"].shape == (4, 5)  # 5 classes: the 10-class head was not copied
  np.testing.assert_array_equal(state.params["head"]["kernel"], fresh.params["head"]["kernel"])
  # Same class count, but the head excluded by regex: everything but the head copied.
  c = _config(init_from=str(tmp_path / "src" / "checkpoints" / "1"), init_from_exclude="^head/")
  state = _task(c).init(jax.random.key(0))
  np.testing.assert_array_equal(state.params["conv"]["kernel"], saved.params["conv"]["kernel"])
  assert not np.allclose(state.params["head"]["kernel"], saved.params["head"]["kernel"])
  with pytest.raises(errors.UserError, match="no checkpoint"):
    _task(_config(init_from=str(tmp_path))).init(jax.random.key(0))


def test_weight_ema_averages_updates_and_is_what_evaluation_and_init_from_use(tiny, tmp_path):
  d = 0.6
  task = _task(_config(ema_decay=d))
  state = task.init(jax.random.key(0))
  step = jax.jit(task.step)
  raw = [state]
  for i in range(3):
    raw.append(step(raw[-1], _batch(seed=i), jax.random.key(i))[0])
  # ema_3 = d^3 p_0 + d^2 (1-d) p_1 + d (1-d) p_2 + (1-d) p_3, for parameters and BatchNorm statistics.
  weights = [d ** 3, d ** 2 * (1 - d), d * (1 - d), 1 - d]
  for part in ("params", "batch_stats"):
    for got, *ps in zip(jax.tree.leaves(raw[-1].ema[part]), *(jax.tree.leaves(getattr(r, part)) for r in raw)):
      np.testing.assert_allclose(got, sum(w * np.asarray(p) for w, p in zip(weights, ps)), rtol=1e-5, atol=1e-7)
  images = _batch(4, seed=9)["image"]
  np.testing.assert_allclose(task.logits(raw[-1], images), task.spec.model.apply(raw[-1].ema, images), rtol=1e-5)
  assert not np.allclose(task.logits(raw[-1], images), task.spec.model.apply(
      {"params": raw[-1].params, "batch_stats": raw[-1].batch_stats}, images))
  mngr = checkpoint.manager(str(tmp_path / "src"), async_save=False)
  checkpoint.save(mngr, 3, raw[-1])
  mngr.close()
  loaded, _ = checkpoint.load_variables(str(tmp_path / "src"))
  for a, b in zip(jax.tree.leaves(loaded), jax.tree.leaves(raw[-1].ema)):
    np.testing.assert_array_equal(a, b)
  assert _task(_config()).init(jax.random.key(0)).ema is None  # off by default: nothing extra kept
  with pytest.raises(errors.UserError, match="ema_decay"):
    _task(_config(ema_decay=1.0))


def test_tta_flip_is_the_mean_of_the_two_passes(tiny):
  task = _task(_config(tta_flip=True))
  state, _ = jax.jit(task.step)(task.init(jax.random.key(0)), _batch(), jax.random.key(1))
  images = _batch(4, seed=3)["image"]
  variables = {"params": state.params, "batch_stats": state.batch_stats}
  plain = task.spec.model.apply(variables, images, train=False)
  mirrored = task.spec.model.apply(variables, jnp.asarray(np.flip(np.asarray(images), axis=2)), train=False)
  assert not np.allclose(plain, mirrored)  # the test means something only if the model is not symmetric
  np.testing.assert_allclose(task.logits(state, images), (plain + mirrored) / 2, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("flip", [False, True])
def test_tta_shift_is_the_mean_over_edge_padded_one_pixel_shifts(tiny, flip):
  task = _task(_config(tta_shift=1, tta_flip=flip))
  state, _ = jax.jit(task.step)(task.init(jax.random.key(0)), _batch(), jax.random.key(1))
  x = np.asarray(_batch(4, seed=3)["image"])  # [4, 8, 8, 1]
  variables = {"params": state.params, "batch_stats": state.batch_stats}
  apply = lambda v: np.asarray(task.spec.model.apply(variables, jnp.asarray(v), train=False))
  p = np.pad(x, ((0, 0), (1, 1), (1, 1), (0, 0)), mode="edge")
  views = [x, p[:, 2:10, 1:9], p[:, 0:8, 1:9], p[:, 1:9, 2:10], p[:, 1:9, 0:8]]  # down, up, right, left
  views += [np.flip(v, axis=2) for v in views] if flip else []
  assert not np.allclose(apply(views[1]), apply(x))
  np.testing.assert_allclose(task.logits(state, jnp.asarray(x)), np.mean([apply(v) for v in views], axis=0),
                             rtol=1e-5, atol=1e-6)


def test_negative_tta_shift_is_a_user_error(tiny):  # (a float one is refused by the ConfigDict's int field)
  with pytest.raises(errors.UserError, match="tta_shift"):
    _task(_config(tta_shift=-1))


def test_padded_final_eval_batch_counts_each_example_once(tiny):
  # 10 examples, global batch 4 on 4 devices: batches of 4, 4 and 2 (+2 padded).
  rng = np.random.default_rng(0)
  logits = rng.normal(size=(10, K)).astype(np.float32)
  labels = np.argmax(logits, -1)
  labels[[1, 4, 8]] = (labels[[1, 4, 8]] + 1) % K  # three wrong: accuracy exactly 0.7
  c = _config(eval_batch_size=4)
  c.model = {"name": "identity"}
  task = _task(c, shape=(1, 1, K), devices=4)
  state = task.init(jax.random.key(0))
  ds = tf.data.Dataset.from_tensor_slices({"image": logits[:, None, None, :], "label": labels.astype(np.int32)})
  batches = list(eval_input.padded_batches(ds, 10, 4, task.mesh))
  assert len(batches) == 3 and [float(b["mask"].sum()) for b in batches] == [4, 4, 2]
  results, confusion = task.evaluate_batches(state, batches)
  assert results["examples"] == 10 and confusion.sum() == 10
  assert results["accuracy"] == pytest.approx(0.7)
  np.testing.assert_allclose(results["loss"], -_log_softmax(logits)[np.arange(10), labels].mean(), rtol=1e-5)
  rank = (logits > logits[np.arange(10), labels][:, None]).sum(-1)  # classes scored above the true one
  assert results["top5_accuracy"] == pytest.approx(np.mean(rank < 5))
  np.testing.assert_array_equal(confusion.sum(1), np.bincount(labels, minlength=K))
  np.testing.assert_array_equal(np.diag(confusion).sum(), 7)


def _images(seed=0, shape=(28, 28, 1), batch=1):
  return tf.constant(np.random.default_rng(seed).uniform(-1, 1, (batch, *shape)), tf.float32)


def _key(i, j=0):
  return tf.constant([i, j], tf.int64)


def test_random_erasing_fills_one_rectangle_of_the_paper_area_per_image():
  imgs = _images(shape=(28, 28, 3), batch=20)
  out = preprocess.build("random_erasing(1.0, 0.02, 0.4, 0.3, 5.0)")(imgs, _key(0)).numpy()
  areas, corners = [], set()
  for img, o in zip(imgs.numpy(), out):
    erased = np.all(o == 5.0, -1)
    if not erased.any():
      continue
    rows, cols = np.flatnonzero(erased.any(1)), np.flatnonzero(erased.any(0))
    assert erased.sum() == len(rows) * len(cols)  # one solid rectangle
    assert np.array_equal(o[~erased], img[~erased])  # the rest untouched
    areas.append(erased.sum() / 28 ** 2)
    corners.add((rows[0], cols[0], len(rows), len(cols)))
  assert len(areas) >= 15 and 0.015 <= min(areas) and max(areas) <= 0.45
  assert len(corners) >= 14  # each image of the batch draws its own rectangle
  kept = preprocess.build("random_erasing(0.0)")(imgs, _key(1))
  np.testing.assert_array_equal(kept, imgs)
  noise = preprocess.build("random_erasing(1.0, 0.3, 0.3, 1.0)")(imgs, _key(2)).numpy()
  changed = noise != imgs.numpy()
  assert changed.any(axis=(1, 2, 3)).all() and noise.min() >= -1 and noise.max() <= 1  # noise in [lo, hi]
  half = preprocess.build("random_erasing(0.5, 0.3, 0.3, 1.0, 5.0)")(_images(batch=400), _key(3)).numpy()
  assert 160 <= (half == 5.0).any(axis=(1, 2, 3)).sum() <= 240  # p = 0.5 per image
  with pytest.raises(errors.UserError, match="random_erasing"):
    preprocess.build("random_erasing(1.5)")


def test_random_brightness_and_contrast_per_image():
  imgs = _images(1, batch=8)
  out = preprocess.build("random_brightness(0.2)")(imgs, _key(3, 4)).numpy()
  delta = (out - imgs.numpy()).reshape(8, -1)
  assert np.ptp(delta, axis=1).max() < 1e-6 and 0 < np.abs(delta[:, 0]).min() and np.abs(delta).max() <= 0.2
  assert len(np.unique(delta[:, 0].round(6))) == 8  # one delta per image
  out = preprocess.build("random_contrast(0.5, 0.9)")(imgs, _key(3, 4)).numpy()
  mean = imgs.numpy().mean(axis=(1, 2, 3))
  np.testing.assert_allclose(out.mean(axis=(1, 2, 3)), mean, atol=1e-5)
  factor = (out.reshape(8, -1) - mean[:, None]).std(1) / (imgs.numpy().reshape(8, -1) - mean[:, None]).std(1)
  assert 0.5 <= factor.min() and factor.max() <= 0.9 and np.ptp(factor) > 0.01
  uint8 = tf.fill((2, 4, 4, 1), tf.constant(250, tf.uint8))  # uint8 saturates as tf.image does
  bright = preprocess.build("random_brightness(0.2)")(uint8, _key(5)).numpy()
  assert bright.dtype == np.uint8 and set(np.unique(bright)) <= set(range(201, 256))


def test_flip_and_crop_each_image_independently():
  imgs = _images(2, shape=(8, 8, 2), batch=64)
  out = preprocess.build("flip_lr")(imgs, _key(6)).numpy()
  flipped = [np.array_equal(o, i[:, ::-1]) for o, i in zip(out, imgs.numpy())]
  kept = [np.array_equal(o, i) for o, i in zip(out, imgs.numpy())]
  assert all(f or k for f, k in zip(flipped, kept)) and 20 <= sum(flipped) <= 44
  crops = preprocess.build("random_crop(8, 2)")(imgs, _key(7)).numpy()
  padded = np.pad(imgs.numpy(), ((0, 0), (2, 2), (2, 2), (0, 0)))
  offsets = set()
  for c, p in zip(crops, padded):  # each crop is a window of its own zero-padded image
    found = [(y, x) for y in range(5) for x in range(5) if np.array_equal(p[y:y + 8, x:x + 8], c)]
    assert found
    offsets.add(found[0])
  assert len(offsets) >= 12


def test_preprocessing_wants_a_batch():
  with pytest.raises(errors.UserError, match="batch"):
    preprocess.build("flip_lr")(_images()[0], _key(0))


def test_augmented_stream_resumes_with_the_same_batches(data_dir):
  c = common.classifier_config()
  c.update(dict(dataset="fashion_mnist", data_dir=data_dir, batch_size=32,
                preprocess="value_range(-1,1)|random_crop(28,2)|flip_lr|random_erasing(0.5)"))
  mesh = parallel.make_mesh(1)
  from gans.data import pipeline  # pylint: disable=g-import-not-at-top
  split = "train[:1000]"  # a slice: filling the shuffle buffer with all 60k images took ~20 s per stream
  full = pipeline.train_batches(c, mesh, 32, split=split)
  batches = [next(full) for _ in range(40)]  # past the end of the first epoch (31 batches)
  resumed = next(pipeline.train_batches(c, mesh, 32, start_step=33, split=split))
  for k in ("image", "label"):
    np.testing.assert_array_equal(np.asarray(resumed[k]), np.asarray(batches[33][k]))
  assert not np.array_equal(np.asarray(batches[0]["image"]), np.asarray(batches[1]["image"]))


def test_input_pipelines_run_without_tf_data_autotuning(data_dir):
  # Deleting an autotuned iterator waits for the autotuner's thread, which may sleep for up to a minute.
  from gans.data import pipeline  # pylint: disable=g-import-not-at-top
  c = common.classifier_config()
  c.update(dict(dataset="fashion_mnist", data_dir=data_dir, batch_size=32, preprocess="value_range(-1,1)|flip_lr"))
  train = pipeline._image_dataset(c, "train[:100]", 32, 0)  # pylint: disable=protected-access
  test, _ = eval_input.eval_dataset(c, "test[:100]")
  split = sources.read(sources.get_builder("fashion_mnist", data_dir), "test[:10]")  # every other reader's source
  for ds in (train, test, split):
    assert ds.options().autotune.enabled is False
  assert next(train.as_numpy_iterator())["image"].shape == (32, 28, 28, 1)


def test_end_to_end_on_mnist_5k(tiny, tmp_path, data_dir):
  c = _config(dataset="mnist_5k", data_dir=data_dir, total_steps=6, batch_size=32, log_every=3, eval_every=3,
              checkpoint_every=3, eval_batch_size=384, num_devices=4, label_smoothing=0.1)
  c.optimizer = common.optimizer("adam", 3e-3, schedule="cosine", warmup_steps=2)
  loop.train_and_evaluate(c, str(tmp_path / "run"))
  lines = [json.loads(l) for l in open(tmp_path / "run" / "metrics.jsonl")]
  evals = [l for l in lines if "test_accuracy" in l]
  assert [l["step"] for l in evals] == [3, 6]
  assert all(l["test_examples"] == 1000 for l in evals)  # 384 + 384 + 232: each test digit once
  assert all(0 <= l["test_top5_accuracy"] <= 1 and l["test_top5_accuracy"] >= l["test_accuracy"] for l in evals)
  assert [l["step"] for l in lines if "loss" in l and "test_loss" not in l] == [3, 6]
  assert os.listdir(tmp_path / "run" / "confusion") == ["step_6.png"]
  # Resumed task from the workdir: same evaluation.
  config, task, state, step = runs.restore_task(str(tmp_path / "run"), parallel.make_mesh(4))
  assert step == 6
  again = task.evaluate(state, step, str(tmp_path / "eval"))
  assert again["test_accuracy"] == evals[-1]["test_accuracy"]


def test_validation_examples_are_held_out_of_training_and_evaluated(tiny, data_dir):
  from gans.data import pipeline  # pylint: disable=g-import-not-at-top
  c = _config(dataset="mnist_5k", data_dir=data_dir, batch_size=500, validation_examples=500, eval_batch_size=250,
              preprocess="value_range(-1,1)")  # no augmentation: an image seen is byte-equal to its copy
  assert pipeline.train_split(c) == "train[:-500]" and pipeline.validation_split(c) == "train[-500:]"
  held_out, _ = eval_input.split_arrays(c, pipeline.validation_split(c))
  seen = [np.asarray(b["image"]) for b, _ in zip(pipeline.train_batches(c, parallel.make_mesh(1), 500), range(7))]
  seen = {x.tobytes() for x in np.concatenate(seen)}
  assert len(seen) == 3500 and not seen & {x.tobytes() for x in held_out}  # one epoch of the other 3,500
  task = classifier_task.ClassifierTask(c, pipeline.data_spec(c), parallel.make_mesh(1))
  result = task.evaluate(task.init(jax.random.key(0)), 0, "")
  assert result["validation_examples"] == 500 and 0 <= result["validation_accuracy"] <= 1
  with pytest.raises(errors.UserError, match="validation_examples"):
    pipeline.train_split(_config(validation_examples=-1))


class Plain(nn.Module):
  """Conv -> ReLU -> mean pool -> Dense, no BatchNorm or dropout: accumulation must equal a large batch."""
  num_classes: int = K

  @nn.compact
  def __call__(self, x, train=False):
    x = nn.relu(nn.Conv(4, (3, 3), strides=2)(x)).mean((1, 2))
    return nn.Dense(self.num_classes)(x)


@pytest.mark.parametrize("devices", [1, 4])
def test_gradient_accumulation_equals_the_large_batch_step(monkeypatch, devices):
  classifiers.names()
  monkeypatch.setitem(classifiers.MODELS._items, "plain", lambda num_classes, small_inputs=False: Plain(num_classes))
  results = {}
  for k in (1, 4):
    c = _config(grad_accum_steps=k, batch_size=16)
    c.model = {"name": "plain"}
    mesh = parallel.make_mesh(devices)
    task = _task(c, devices=devices)
    repl, data = parallel.replicated(mesh), parallel.data_sharded(mesh)
    state = jax.jit(task.init, out_shardings=repl)(jax.random.key(0))
    step = jax.jit(task.step, in_shardings=(repl, data, repl), out_shardings=(repl, repl))
    for i in range(2):
      state, metrics = step(state, jax.device_put(_batch(16, seed=i), data), jax.random.key(1))
    results[k] = (jax.tree.leaves(state.params), float(metrics["loss"]), float(metrics["accuracy"]))
  for a, b in zip(results[1][0], results[4][0]):
    np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-5, atol=1e-6)
  np.testing.assert_allclose(results[1][1], results[4][1], rtol=1e-5)
  assert results[1][2] == pytest.approx(results[4][2])


def test_gradient_accumulation_must_divide_the_batch(tiny):
  with pytest.raises(errors.UserError, match="grad_accum_steps"):
    _task(_config(grad_accum_steps=3, batch_size=16))


def test_classifier_table_trains_once_and_reports(data_dir, tmp_path):
  from launch import classifier_table, tables  # pylint: disable=g-import-not-at-top
  from launch import common as launch_common
  c = launch_common.experiment_config("lenet5_fashion_mnist", steps=3)
  c.update(dict(data_dir=data_dir, log_every=1, eval_every=3, checkpoint_every=3, num_devices=1))
  workdir = str(tmp_path / "lenet")
  first = tables.train_one(c, workdir)
  assert 0.0 <= first["test_accuracy"] <= 1.0 and first["steps"] == 3 and first["wall_min"] > 0
  with open(os.path.join(workdir, "metrics.jsonl")) as f:
    lines = f.readlines()
  again = tables.train_one(c, workdir)  # reused, not retrained
  with open(os.path.join(workdir, "metrics.jsonl")) as f:
    assert f.readlines() == lines
  assert again == first
  # LeNet-5's 60,000 (LeCun et al. 1998) plus the dense 84 -> 10 head in place of the RBF centres.
  assert classifier_table.param_count(c) == 60_000 + 84 * 10 + 10
  second = {**first, "seed": 1, "test_accuracy": first["test_accuracy"] - 0.01, "wall_min": 2.0}
  body = classifier_table.table([("lenet5_fashion_mnist", c, [{**first, "seed": 0}, second])])
  row = tables.cells(body.splitlines()[2])
  top1 = [100 * first["test_accuracy"], 100 * second["test_accuracy"]]
  assert row[:4] == ["lenet5_fashion_mnist", "lenet5", "0, 1", f"{top1[0]:.2f} / {top1[1]:.2f}"]
  assert row[4:6] == [f"{(top1[0] + top1[1]) / 2:.2f}", f"{top1[1]:.2f}"] and row[-1] == "60,850"
  assert row[7] == f"{first['wall_min']:.1f} / 2.0" and row[8] == f"{first['load_before']:.1f} / " \
      f"{first['load_before']:.1f}"
  resnet20 = "| resnet20_fashion_mnist | resnet20 | 94.20 | 99.90 | 31.6 | 269,434 |"  # the one-seed layout
  merged = classifier_table.table([("lenet5_fashion_mnist", c, [{**first, "seed": 0}])],
                                  {"resnet20_fashion_mnist": resnet20, "lenet5_fashion_mnist": "| stale |"})
  assert tables.cells(merged.splitlines()[3]) == ["resnet20_fashion_mnist", "resnet20", "0", "94.20", "94.20",
                                                  "94.20", "99.90", "31.6", "-", "269,434"]  # kept, re-laid
  assert "stale" not in merged  # the re-run row replaces the old one
  with pytest.raises(errors.UserError, match="no config"):
    launch_common.experiment_config("nonexistent_model")


def test_a_run_stopped_early_is_not_recorded_as_finished(monkeypatch, tmp_path):
  from gans.train import loop as loop_lib  # pylint: disable=g-import-not-at-top
  from launch import tables  # pylint: disable=g-import-not-at-top
  c = _config(total_steps=10)
  def trains_to(step):  # a stand-in for training that uses some CPU time and returns the state at `step`
    return lambda config, workdir: (sum(range(3_000_000)), classifier_step.ClassifierState(
        jnp.asarray(step), {}, {}, ()))[1]

  monkeypatch.setattr(loop_lib, "train_and_evaluate", trains_to(4))  # as after a SIGTERM at step 4
  with pytest.raises(errors.UserError, match="stopped at step 4 of 10"):
    tables.train_one(c, str(tmp_path))
  stopped = json.load(open(tmp_path / "timing.json"))
  assert stopped["steps"] == 4 and "unmeasured_steps" not in stopped
  # Resumed from its step-4 checkpoint: the two processes' times add up.
  os.makedirs(tmp_path / "checkpoints" / "4")
  monkeypatch.setattr(loop_lib, "train_and_evaluate", trains_to(10))
  finished = tables.train_one(c, str(tmp_path))
  assert finished["steps"] == 10 and finished["cpu_min"] >= stopped["cpu_min"] > 0
  assert finished["wall_min"] >= stopped["wall_min"] and tables.cpu_minutes(finished).count("+") == 0
  # Resumed from a checkpoint past the step timing.json reached (killed, not stopped): those steps are unknown.
  (tmp_path / "timing.json").write_text(json.dumps(stopped))
  os.makedirs(tmp_path / "checkpoints" / "8")
  resumed = tables.train_one(c, str(tmp_path))
  assert resumed["unmeasured_steps"] == 8 and resumed["cpu_min"] < finished["cpu_min"]  # one process's, not two
  assert tables.cpu_minutes(resumed).endswith("+")
