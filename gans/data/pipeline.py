"""Input pipelines: tfds image datasets, Stacked MNIST and 2-D toy mixtures as global sharded batches.

Data order is a pure function of (seed, step): every epoch is shuffled with its own seed and a run
resumed at step s skips straight to example s * batch_size of the stream. So a run killed at any
moment and resumed sees exactly the data an uninterrupted run sees.
"""
import dataclasses
import os
from typing import Iterator

import jax
import numpy as np
import tensorflow as tf
import tensorflow_datasets as tfds

from gans import parallel
from gans.data import preprocess, sources, stacked_mnist, toy
from gans.errors import UserError

tf.config.set_visible_devices([], "GPU")  # TensorFlow only feeds data; accelerators are JAX's

# Fixed parallelism, not tf.data's autotuning (see `sources.fixed_parallelism`).
PARALLEL_CALLS = os.cpu_count() or 1
PREFETCH_BATCHES = 2


@dataclasses.dataclass(frozen=True)
class DataSpec:
  """What a model needs to know about the data: one example's shape and the number of classes."""
  shape: tuple[int, ...]
  num_classes: int
  num_examples: int


def _epoch_seed(seed: int, epoch):
  return tf.cast(seed, tf.int64) * 1_000_003 + tf.cast(epoch, tf.int64)


def preprocess_spec(config, native_shape) -> str:
  """The config's preprocessing, preceded by resize(image_size) when that differs from the data's size."""
  size = config.get("image_size")
  resize = f"resize({size})|" if size and tuple(native_shape[:2]) != (size, size) else ""
  return resize + config.preprocess


def _image_dataset(config, split, local_batch, start_step):
  seed = config.seed
  builder = sources.get_builder(config.dataset, config.get("data_dir"))
  process_split = tfds.split_for_jax_process(split)
  n = builder.info.splits[process_split].num_examples
  base = sources.read(builder, process_split)
  has_label = "label" in builder.info.features
  base = base.map(lambda ex: {"image": ex["image"],
                              "label": tf.cast(ex["label"], tf.int32) if has_label else tf.constant(0)})
  if config.get("cache_data", True):
    base = base.cache()
  buffer = min(n, 100_000)
  start_epoch, offset = divmod(start_step * local_batch, n)
  epochs = tf.data.Dataset.range(start_epoch, np.iinfo(np.int64).max)
  stream = epochs.flat_map(
      lambda e: base.shuffle(buffer, seed=_epoch_seed(seed, e), reshuffle_each_iteration=False))
  shape = builder.info.features["image"].shape
  # Images of varying size (natural_images) come as a ragged batch; the preprocessing must crop them first.
  batch = stream.skip(offset).ragged_batch if None in shape[:2] else stream.skip(offset).batch
  stream = batch(local_batch, drop_remainder=True)
  op = preprocess.build(preprocess_spec(config, shape))
  # Batch b of this process's stream is augmented with key (seed, b * processes + process index).
  keys = tf.data.Dataset.range(start_step, np.iinfo(np.int64).max).map(
      lambda b: tf.stack([tf.cast(seed, tf.int64), b * jax.process_count() + jax.process_index()]))

  def prep(batch, key):
    return {"image": op(batch["image"], key), "label": batch["label"]}
  stream = tf.data.Dataset.zip(stream, keys).map(prep, num_parallel_calls=PARALLEL_CALLS)
  # Options do not pass through flat_map (the epochs), so set them again on the result.
  return sources.fixed_parallelism(stream.prefetch(PREFETCH_BATCHES))


def _toy_batches(name, seed, global_batch, start_step):
  lo = jax.process_index() * (global_batch // jax.process_count())
  hi = lo + global_batch // jax.process_count()
  step = start_step
  while True:
    points, modes = toy.sample_batch(name, seed, step, global_batch)
    yield {"image": points[lo:hi], "label": modes[lo:hi]}
    step += 1


def _stacked_mnist_batches(config, global_batch, start_step):
  """Stacked MNIST batches drawn per step (`gans.data.stacked_mnist`), preprocessed with key (seed, step)."""
  digits = stacked_mnist.source_digits(config.get("data_dir"))
  op = tf.function(preprocess.build(preprocess_spec(config, stacked_mnist.SHAPE)))
  lo = jax.process_index() * (global_batch // jax.process_count())
  hi = lo + global_batch // jax.process_count()
  step = start_step
  while True:
    images, modes = stacked_mnist.sample_batch(digits, config.seed, step, global_batch)
    key = tf.constant([config.seed, step], tf.int64)
    yield {"image": op(tf.constant(images[lo:hi]), key).numpy(), "label": modes[lo:hi]}
    step += 1


def data_spec(config) -> DataSpec:
  """Shape of one preprocessed example and the number of classes of `config.dataset`."""
  if config.dataset in toy.MIXTURES:
    return DataSpec((2,), len(toy.modes(config.dataset)), 0)
  if config.dataset == stacked_mnist.NAME:
    op = preprocess.build(preprocess_spec(config, stacked_mnist.SHAPE))
    return DataSpec(preprocess.output_shape(op, stacked_mnist.SHAPE), stacked_mnist.NUM_MODES,
                    len(stacked_mnist.source_digits(config.get("data_dir"))[0]))
  builder = sources.get_builder(config.dataset, config.get("data_dir"))
  shape = builder.info.features["image"].shape
  example_shape = preprocess.output_shape(preprocess.build(preprocess_spec(config, shape)), shape)
  if None in example_shape:
    raise UserError(f"{config.dataset}'s images vary in size: its preprocessing must crop them to one size first "
                    f"(e.g. 'random_crop_varying(96)|...'), got {config.preprocess!r}")
  num_classes = builder.info.features["label"].num_classes if "label" in builder.info.features else 0
  return DataSpec(example_shape, num_classes, builder.info.splits["train"].num_examples)


def validation_examples(config) -> int:
  """`config.validation_examples`: how many of the train split's last examples are held out (0: none)."""
  n = config.get("validation_examples", 0)
  if not isinstance(n, int) or n < 0:
    raise UserError(f"validation_examples must be a non-negative number of examples, got {n!r}")
  return n


def train_split(config) -> str:
  """The split training reads: `train`, less its last `validation_examples` (held out to choose a recipe on)."""
  n = validation_examples(config)
  return f"train[:-{n}]" if n else "train"


def validation_split(config) -> str | None:
  """The held-out end of the train split that `train_split` leaves out (None: nothing held out)."""
  n = validation_examples(config)
  return f"train[-{n}:]" if n else None


def train_batches(config, mesh, global_batch: int, start_step: int = 0, split: str | None = None) -> Iterator[dict]:
  """Yields global batches {'image', 'label'} of `split` (default `train_split(config)`) sharded over the mesh's
  `data` axis, from `start_step` on."""
  local_batch = parallel.check_batch_size(global_batch, mesh)
  if config.dataset in toy.MIXTURES:
    local = _toy_batches(config.dataset, config.seed, global_batch, start_step)
  elif config.dataset == stacked_mnist.NAME:
    local = _stacked_mnist_batches(config, global_batch, start_step)
  else:
    ds = _image_dataset(config, split or train_split(config), local_batch, start_step)
    local = ds.as_numpy_iterator()
  for batch in local:
    yield parallel.global_batch(batch, mesh)
