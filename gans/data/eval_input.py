"""Evaluation input: a split read once, in stored order, with deterministic preprocessing.

Used by classifier evaluation (padded, masked global batches, so every example counts exactly once), by
data-dependent initialisation (the first training images) and by whole-split arrays (SGAN's labelled subset
and test accuracy).
"""
import math
from typing import Iterator

import jax
import numpy as np
import tensorflow as tf
import tensorflow_datasets as tfds
from ml_collections import ConfigDict

from gans import parallel
from gans.data import pipeline, preprocess, sources
from gans.errors import UserError


def eval_dataset(config: ConfigDict, split: str, per_process: bool = True) -> tuple[tf.data.Dataset, int]:
  """This process's share of `split` (all of it if not `per_process`), in order, preprocessed by
  `config.eval_preprocess`; and its size.

  The size returned is the largest share of any process, so all processes run the same number of
  batches.
  """
  builder = sources.get_builder(config.dataset, config.get("data_dir"))
  try:
    total = builder.info.splits[split].num_examples
  except (KeyError, ValueError, AssertionError):
    raise UserError(f"dataset {config.dataset} has no split {split!r}; known: "
                    f"{', '.join(builder.info.splits)}") from None
  shape = builder.info.features["image"].shape
  eval_config = ConfigDict({"image_size": config.get("image_size"), "preprocess": config.eval_preprocess})
  op = preprocess.build(pipeline.preprocess_spec(eval_config, shape))
  ds = sources.read(builder, tfds.split_for_jax_process(split) if per_process else split)
  seed = tf.constant([0, 0], tf.int64)

  def prep(ex):
    return {"image": op(ex["image"], seed), "label": tf.cast(ex["label"], tf.int32)}
  ds = ds.batch(1024).map(prep, num_parallel_calls=pipeline.PARALLEL_CALLS).unbatch().cache()
  return ds, math.ceil(total / (jax.process_count() if per_process else 1))


def first_train_images(config: ConfigDict, n: int) -> np.ndarray:
  """The first `n` training images, preprocessed for evaluation (no augmentation); the same on every process."""
  ds, _ = eval_dataset(config, f"train[:{n}]", per_process=False)
  return np.concatenate([b["image"] for b in ds.batch(1024).as_numpy_iterator()])


def split_arrays(config: ConfigDict, split: str) -> tuple[np.ndarray, np.ndarray]:
  """A whole split in stored order as (images preprocessed by `config.preprocess`, labels), on every process."""
  ds, _ = eval_dataset(ConfigDict({**config.to_dict(), "eval_preprocess": config.preprocess}), split,
                       per_process=False)
  arrays = [(b["image"], b["label"]) for b in ds.batch(10_000).as_numpy_iterator()]
  return np.concatenate([a[0] for a in arrays]), np.concatenate([a[1] for a in arrays])


def padded_batches(ds: tf.data.Dataset, num_examples: int, global_batch: int, mesh) -> Iterator[dict]:
  """Global batches {'image', 'label', 'mask'} covering the first `num_examples` of each process's `ds`.

  Batches past the end of the data are zero-padded with mask 0, so every example counts once.
  """
  local_batch = parallel.check_batch_size(global_batch, mesh)
  it = ds.batch(local_batch).prefetch(pipeline.PREFETCH_BATCHES).as_numpy_iterator()  # eval_dataset's options
  empty = {k: np.zeros((0, *s.shape), s.dtype.as_numpy_dtype) for k, s in ds.element_spec.items()}
  for _ in range(math.ceil(num_examples / local_batch)):
    batch = next(it, None) or empty  # empty: this process's share ran out before another's
    n = len(batch["label"])
    pad = lambda x: np.concatenate([x, np.zeros((local_batch - n, *x.shape[1:]), x.dtype)])
    out = {k: pad(v) for k, v in batch.items()}
    out["mask"] = (np.arange(local_batch) < n).astype(np.float32)
    yield parallel.global_batch(out, mesh)
  for _ in it:  # read to the end, so that tf.data keeps the cache it has filled
    pass
