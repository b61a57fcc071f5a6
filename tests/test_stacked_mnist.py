"""Stacked MNIST: the data stream (deterministic, resumable, modes from the digits) and the mode counter on
samples built from real test digits with a known set of modes."""
import numpy as np
import pytest
from ml_collections import ConfigDict

from gans import parallel
from gans.data import pipeline, stacked_mnist
from gans.errors import UserError
from gans.metrics import stacked_mnist as modes_lib


def _digits(n=50):
  """Fake digits: image i is filled with the value i, label i % 10."""
  images = np.broadcast_to(np.arange(n, dtype=np.uint8)[:, None, None], (n, 28, 28)).copy()
  return images, (np.arange(n) % 10).astype(np.int32)


def test_batches_are_a_function_of_seed_and_step_and_modes_follow_the_digits():
  digits = _digits()
  a, modes = stacked_mnist.sample_batch(digits, seed=1, step=5, batch_size=64)
  b, _ = stacked_mnist.sample_batch(digits, seed=1, step=5, batch_size=64)
  c, _ = stacked_mnist.sample_batch(digits, seed=1, step=6, batch_size=64)
  np.testing.assert_array_equal(a, b)
  assert a.shape == (64, 28, 28, 3) and a.dtype == np.uint8 and not np.array_equal(a, c)
  rows = a[:, 0, 0, :].astype(np.int64)  # which digit each channel holds
  np.testing.assert_array_equal(modes, 100 * (rows[:, 0] % 10) + 10 * (rows[:, 1] % 10) + rows[:, 2] % 10)
  assert len(set(rows[:, 0]) | set(rows[:, 1]) | set(rows[:, 2])) > 30  # channels drawn independently
  with pytest.raises(UserError):
    stacked_mnist.sample_batch(digits, seed=1, step=-1, batch_size=4)


def test_pipeline_gives_preprocessed_batches_and_resumes_at_a_step(data_dir):
  config = ConfigDict({"dataset": "stacked_mnist", "data_dir": data_dir, "seed": 3, "image_size": 32,
                       "preprocess": "value_range(-1,1)"})
  spec = pipeline.data_spec(config)
  assert (spec.shape, spec.num_classes, spec.num_examples) == ((32, 32, 3), 1000, 4000)
  mesh = parallel.make_mesh(1)
  stream = pipeline.train_batches(config, mesh, 8)
  first = [next(stream) for _ in range(3)]
  resumed = next(pipeline.train_batches(config, mesh, 8, start_step=2))
  np.testing.assert_array_equal(np.asarray(first[2]["image"]), np.asarray(resumed["image"]))
  np.testing.assert_array_equal(np.asarray(first[2]["label"]), np.asarray(resumed["label"]))
  image = np.asarray(first[0]["image"])
  assert image.shape == (8, 32, 32, 3) and -1 <= image.min() < image.max() <= 1
  assert 0 <= np.asarray(first[0]["label"]).min() and np.asarray(first[0]["label"]).max() < 1000


def _lookup_classifier(images, labels):
  """An exact digit 'classifier' of these images: looks each one up (one-hot logits)."""
  table = {img.tobytes(): int(label) for img, label in zip(images, labels)}

  def classify(batch):
    return np.eye(10)[[table[img[..., 0].tobytes()] for img in batch]]
  return classify


def test_ten_of_the_thousand_modes_give_ten_modes_and_kl_log_100(data_dir):
  images, labels = stacked_mnist.source_digits(data_dir, "test")
  rng = np.random.default_rng(0)
  per_digit = [np.flatnonzero(labels == d) for d in range(10)]
  triples = [(d, (d + 3) % 10, (7 * d) % 10) for d in range(10)]  # 10 modes, 26 samples each
  rows = np.array([[rng.choice(per_digit[t[c]]) for c in range(3)] for t in triples for _ in range(26)])
  stacked, modes = stacked_mnist.stack(images, labels, rows)
  samples = stacked.astype(np.float32) / 127.5 - 1.0  # value_range(-1, 1), as a generator's output
  result = modes_lib.mode_count(samples, _lookup_classifier(images, labels))
  assert result["modes"] == 10 and result["num_samples"] == 260
  np.testing.assert_allclose(result["kl"], np.log(100), rtol=1e-12)
  # every channel holds each digit equally often: the KL is all dependence between channels
  np.testing.assert_allclose(result["channel_kl"], 0.0, atol=1e-12)
  assert sorted(set(modes)) == sorted(100 * a + 10 * b + c for a, b, c in triples)


def test_kl_to_uniform_against_a_hand_computation():
  counts = np.zeros(1000)
  counts[5], counts[7], counts[999] = 6, 3, 1
  expected = 0.6 * np.log(0.6 * 1000) + 0.3 * np.log(0.3 * 1000) + 0.1 * np.log(0.1 * 1000)
  np.testing.assert_allclose(modes_lib.kl_to_uniform(counts), expected, rtol=1e-12)
  assert modes_lib.kl_to_uniform(np.ones(1000)) == pytest.approx(0.0, abs=1e-12)
  histogram = modes_lib.mode_histogram(np.array([[0, 0, 5], [0, 0, 5], [9, 9, 9]]))
  assert histogram[5] == 2 and histogram[999] == 1 and histogram.sum() == 3
  np.testing.assert_array_equal(modes_lib.mode_digits(np.array([5, 999, 370])), [[0, 0, 5], [9, 9, 9], [3, 7, 0]])


def test_real_floor_reads_true_labels_with_an_exact_classifier_and_one_mode_with_a_constant_one(data_dir):
  images, labels = stacked_mnist.source_digits(data_dir, "test")
  exact = modes_lib.real_floor("test", 3000, 0, _lookup_classifier(images, labels), data_dir)
  assert exact["channel_accuracy"] == 1.0 and exact["kl"] == exact["true_kl"] and exact["modes"] == exact["true_modes"]
  _, modes = stacked_mnist.sample_batch((images, labels), 0, 0, 3000)  # the same draw
  np.testing.assert_allclose(exact["true_kl"], modes_lib.kl_to_uniform(np.bincount(modes, minlength=1000)))
  constant = modes_lib.real_floor("test", 3000, 0, lambda batch: np.eye(10)[np.zeros(len(batch), int)], data_dir)
  assert constant["modes"] == 1 and constant["true_modes"] > 900
  np.testing.assert_allclose([constant["kl"], constant["channel_kl"]], np.log(1000))  # all from unbalanced digits
  zeros = np.mean(modes_lib.mode_digits(modes) == 0)  # channels that hold a 0
  np.testing.assert_allclose(constant["channel_accuracy"], zeros)
