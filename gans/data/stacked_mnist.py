"""Stacked MNIST (Metz et al. 2017, sec. 3.3.2; Srivastava et al. 2017; Lin et al. 2018, sec. 5.2): three digits
drawn independently from mnist_5k's 4,000 training digits, stacked as the R, G and B channels of one 28x28
image; the 10^3 digit triples are the 1,000 modes (mode = 100 d_R + 10 d_G + d_B).

There is no fixed training set: batch `step` of stream `seed` is drawn afresh, a pure function of (seed, step)
(as the 2-D mixtures of `gans.data.toy`), so a resumed run sees what an uninterrupted one sees.
"""
import functools

import numpy as np
import tensorflow_datasets as tfds

from gans.data import sources
from gans.errors import UserError

NAME = "stacked_mnist"
SHAPE = (28, 28, 3)
NUM_MODES = 1000


@functools.lru_cache(maxsize=4)
def source_digits(data_dir: str | None = None, split: str = "train") -> tuple[np.ndarray, np.ndarray]:
  """mnist_5k's `split` in stored order: images uint8 [N, 28, 28] and labels int32 [N]."""
  builder = sources.get_builder("mnist_5k", data_dir)
  data = tfds.as_numpy(builder.as_dataset(split=split, batch_size=-1, shuffle_files=False))
  return data["image"][..., 0], data["label"].astype(np.int32)


def stack(images: np.ndarray, labels: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
  """Digits `rows` [B, 3] of (images, labels) stacked as channels: images uint8 [B, 28, 28, 3], modes [B]."""
  stacked = np.stack([images[rows[:, c]] for c in range(3)], axis=-1)
  digits = labels[rows]
  return stacked, (100 * digits[:, 0] + 10 * digits[:, 1] + digits[:, 2]).astype(np.int32)


def sample_batch(digits: tuple[np.ndarray, np.ndarray], seed: int, step: int,
                 batch_size: int) -> tuple[np.ndarray, np.ndarray]:
  """Batch `step` of the stream `seed` from `digits` = (images, labels): uint8 [B, 28, 28, 3] and modes [B]."""
  if batch_size <= 0 or seed < 0 or step < 0:
    raise UserError(f"stacked_mnist needs batch_size > 0, seed >= 0, step >= 0; got {batch_size}, {seed}, {step}")
  images, labels = digits
  rows = np.random.default_rng([seed, step, 3]).integers(0, len(images), size=(batch_size, 3))
  return stack(images, labels, rows)
