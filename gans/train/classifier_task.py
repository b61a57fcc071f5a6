"""The classifier task: builds a ClassifierSpec from a config and gives the loop its init, step and evaluation.

Config keys read here (see `configs.common.classifier_config`): `model` (`name` plus keyword arguments
of the registered constructor, `dtype` by name), `optimizer` (`gans.train.optim.make`),
`decay_norm_and_bias`, `label_smoothing`, `tta_flip`, `tta_shift`, `freeze`, `init_from`, `init_from_exclude`,
`data_init_images`, `eval_split`, `eval_batch_size`, `eval_preprocess`.

Evaluation is one ordered pass over the whole evaluation split: the last, partial batch is padded and
masked, so every example counts exactly once.
"""
import functools
import math
import os
import re
from typing import Iterator

import jax
import jax.numpy as jnp
import numpy as np
import optax
import orbax.checkpoint as ocp
import tensorflow as tf
import tensorflow_datasets as tfds
from absl import logging
from ml_collections import ConfigDict

from gans import parallel
from gans.data import pipeline, preprocess, sources
from gans.errors import UserError
from gans.models import classifiers
from gans.train import classifier_step, optim

FROZEN, TRAINED = "frozen", "trained"
path_mask, path_str = classifier_step.path_mask, classifier_step.path_str

def _compile(name: str, pattern: str) -> str:
  try:
    re.compile(pattern)
  except re.error as e:
    raise UserError(f"{name}: bad regular expression {pattern!r} ({e})") from None
  return pattern


def build_model(config: ConfigDict, num_classes: int):
  """The classifier `config.model.name`, given the other `config.model` keys as keyword arguments."""
  kwargs = config.model.to_dict()
  name = kwargs.pop("name")
  if "dtype" in kwargs:
    try:
      kwargs["dtype"] = jnp.dtype(kwargs["dtype"])
    except TypeError:
      raise UserError(f"model.dtype: unknown dtype {kwargs['dtype']!r}; e.g. float32, bfloat16") from None
  try:
    return classifiers.create(name, num_classes, **kwargs)
  except TypeError as e:  # an argument the constructor does not take
    raise UserError(f"model {name!r}: {e}") from None


def build_spec(config: ConfigDict, num_classes: int) -> classifier_step.ClassifierSpec:
  """Model, optimizer (weight-decay mask, frozen parameters) and loss options named in the config."""
  if not 0 <= config.label_smoothing < 1:
    raise UserError(f"label_smoothing must be in [0, 1), got {config.label_smoothing}")
  mask = None
  if not config.get("decay_norm_and_bias", False):  # decay kernels only, not BN scales/offsets or biases
    mask = lambda params: jax.tree.map(lambda x: x.ndim > 1, params)
  tx = optim.make(config.optimizer, config.total_steps, mask=mask)
  freeze = _compile("freeze", config.get("freeze", ""))
  if freeze:
    labels = lambda params: jax.tree.map(lambda f: FROZEN if f else TRAINED, path_mask(params, freeze))
    tx = optax.multi_transform({TRAINED: tx, FROZEN: optax.set_to_zero()}, labels)
  return classifier_step.ClassifierSpec(
      model=build_model(config, num_classes), tx=tx, num_classes=num_classes,
      label_smoothing=config.label_smoothing, tta_flip=config.get("tta_flip", False),
      tta_shift=_tta_shift(config), freeze=freeze,
      accum_steps=optim.accum_steps(config), ema_decay=_ema_decay(config))


def _tta_shift(config: ConfigDict) -> int:
  shift = config.get("tta_shift", 0)
  if not isinstance(shift, int) or shift < 0:
    raise UserError(f"tta_shift must be a non-negative integer number of pixels, got {shift!r}")
  return shift


def _ema_decay(config: ConfigDict) -> float:
  decay = config.get("ema_decay", 0.0)
  if not 0 <= decay < 1:
    raise UserError(f"ema_decay must be in [0, 1), got {decay}")
  return decay


# --- fine-tuning: parameters from another run


def _step_dir(path: str) -> str:
  """The checkpoint step directory named by a workdir, its checkpoints dir, or a step dir."""
  path = os.path.abspath(os.path.expanduser(path))
  if os.path.isdir(os.path.join(path, "checkpoints")):
    path = os.path.join(path, "checkpoints")
  if os.path.isdir(os.path.join(path, "default")):
    return path
  steps = [int(d) for d in os.listdir(path) if d.isdigit()] if os.path.isdir(path) else []
  steps = [s for s in steps if os.path.isdir(os.path.join(path, str(s), "default"))]
  if not steps:
    raise UserError(f"init_from: no checkpoint found at {path}")
  return os.path.join(path, str(max(steps)))


def load_variables(path: str) -> dict:
  """{'params', 'batch_stats'} (numpy) of the classifier checkpoint at `path` (workdir or checkpoint).

  A run with `ema_decay` > 0 gives its moving averages: the weights its evaluation used.
  """
  item = os.path.join(_step_dir(path), "default")
  ckptr = ocp.PyTreeCheckpointer()
  try:
    tree = ckptr.metadata(item).item_metadata.tree
  except Exception as e:  # pylint: disable=broad-except  # orbax raises many types for unreadable files
    raise UserError(f"init_from: cannot read {item}: {type(e).__name__}") from e
  if "params" not in tree:
    raise UserError(f"init_from: {item} holds no classifier state (keys {sorted(tree)})")
  ema = bool(tree.get("ema"))  # the averaged weights are the ones the run evaluated
  source = tree["ema"] if ema else tree
  wanted = {k: source[k] for k in ("params", "batch_stats") if k in source}
  wanted = {"ema": wanted} if ema else wanted
  args = jax.tree.map(lambda _: ocp.RestoreArgs(restore_type=np.ndarray), wanted)
  restored = ckptr.restore(item, args=ocp.args.PyTreeRestore(item=wanted, restore_args=args,
                                                            partial_restore=True))
  restored = restored["ema"] if ema else restored
  return {"params": restored["params"], "batch_stats": restored.get("batch_stats") or {}}


def merge_matching(fresh, loaded, exclude: str = ""):
  """`fresh` with each leaf replaced by `loaded`'s leaf of the same path and shape.

  Leaves whose path matches `exclude` (re.search) stay fresh. Returns (merged, number copied).
  """
  flat = {path_str(p): v for p, v in jax.tree_util.tree_leaves_with_path(loaded)}
  copied = 0

  def pick(p, x):
    nonlocal copied
    key = path_str(p)
    src = flat.get(key)
    if src is None or tuple(src.shape) != tuple(x.shape) or (exclude and re.search(exclude, key)):
      return x
    copied += 1
    return jnp.asarray(src, x.dtype)
  return jax.tree_util.tree_map_with_path(pick, fresh), copied


# --- evaluation input: one ordered pass over a split


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
  ds = builder.as_dataset(split=tfds.split_for_jax_process(split) if per_process else split, shuffle_files=False)
  seed = tf.constant([0, 0], tf.int64)

  def prep(ex):
    return {"image": op(ex["image"], seed), "label": tf.cast(ex["label"], tf.int32)}
  ds = ds.batch(1024).map(prep, num_parallel_calls=tf.data.AUTOTUNE)
  return ds.unbatch().cache(), math.ceil(total / (jax.process_count() if per_process else 1))


def first_train_images(config: ConfigDict, n: int) -> np.ndarray:
  """The first `n` training images, preprocessed for evaluation (no augmentation); the same on every process."""
  ds, _ = eval_dataset(config, f"train[:{n}]", per_process=False)
  return np.concatenate([b["image"] for b in ds.batch(1024).as_numpy_iterator()])


def padded_batches(ds: tf.data.Dataset, num_examples: int, global_batch: int, mesh) -> Iterator[dict]:
  """Global batches {'image', 'label', 'mask'} covering the first `num_examples` of each process's `ds`.

  Batches past the end of the data are zero-padded with mask 0, so every example counts once.
  """
  local_batch = parallel.check_batch_size(global_batch, mesh)
  it = ds.batch(local_batch).prefetch(tf.data.AUTOTUNE).as_numpy_iterator()
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


def batch_sums(spec: classifier_step.ClassifierSpec, state, batch: dict) -> tuple[dict, jax.Array]:
  """Masked sums over one evaluation batch: count, top-1 and top-5 hits, loss; and the confusion counts.

  The confusion matrix is [num_classes, num_classes] with rows = true class, columns = prediction.
  """
  logits = classifier_step.eval_step(spec, state, batch)
  labels, mask = batch["label"], batch["mask"]
  k = spec.num_classes
  pred = jnp.argmax(logits, -1)
  loss = classifier_step.cross_entropy(logits, labels, k)
  sums = {"count": mask.sum(), "correct": jnp.sum((pred == labels) * mask), "loss": jnp.sum(loss * mask)}
  if k > 5:
    _, top5 = jax.lax.top_k(logits, 5)
    sums["correct5"] = jnp.sum(jnp.any(top5 == labels[:, None], -1) * mask)
  confusion = jax.nn.one_hot(labels, k).T @ (jax.nn.one_hot(pred, k) * mask[:, None])
  return sums, confusion


def save_confusion(matrix: np.ndarray, names, path: str, title: str = "") -> str:
  """Saves a confusion matrix (rows = true, columns = predicted) as a PNG heat map with counts."""
  import matplotlib  # pylint: disable=g-import-not-at-top
  matplotlib.use("Agg")
  import matplotlib.pyplot as plt  # pylint: disable=g-import-not-at-top
  os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
  k = len(matrix)
  size = max(4.0, 0.5 * k + 2)
  fig, ax = plt.subplots(figsize=(size, size), dpi=100)
  ax.imshow(matrix, cmap="Blues")
  if k <= 20:
    for (i, j), v in np.ndenumerate(matrix):
      ax.text(j, i, f"{int(v)}", ha="center", va="center", fontsize=7,
              color="white" if v > matrix.max() / 2 else "black")
    ax.set_xticks(range(k), names, rotation=90, fontsize=7)
    ax.set_yticks(range(k), names, fontsize=7)
  ax.set_xlabel("predicted")
  ax.set_ylabel("true")
  ax.set_title(title)
  fig.tight_layout()
  tmp = path + ".tmp.png"
  fig.savefig(tmp)
  plt.close(fig)
  os.replace(tmp, path)
  return path


class ClassifierTask:
  """What the train loop needs for a classifier: init, step and evaluation on the test split."""

  def __init__(self, config: ConfigDict, data: pipeline.DataSpec, mesh):
    if data.num_classes < 2:
      raise UserError(f"dataset {config.dataset} has no class labels to train a classifier on")
    self.config, self.data, self.mesh = config, data, mesh
    self.spec = build_spec(config, data.num_classes)
    self.examples_per_step = config.batch_size
    self.step = functools.partial(classifier_step.train_step, self.spec)
    self._exclude = _compile("init_from_exclude", config.get("init_from_exclude", ""))
    self._loaded = None
    self._eval = None
    self._data_params = None
    n = config.get("data_init_images", 0)
    if not isinstance(n, int) or n < 0:
      raise UserError(f"data_init_images must be a non-negative number of images, got {n!r}")
    if n:  # parameters the model computes from training data (e.g. airbench's whitening conv)
      data_init = getattr(self.spec.model, "data_init", None)
      if data_init is None:
        raise UserError(f"data_init_images: model {config.model.name!r} has no data-dependent initialisation")
      self._data_params = data_init(first_train_images(config, n))
    # The state keeps the sharding the loop gave it (replicated or FSDP); the batch comes sharded.
    self._sums = jax.jit(functools.partial(batch_sums, self.spec), out_shardings=parallel.replicated(mesh))

  def init(self, rng: jax.Array) -> classifier_step.ClassifierState:
    """Fresh state; with `config.init_from`, parameters and statistics copied where path and shape match."""
    state = classifier_step.init_state(self.spec, rng, self.data.shape)
    if self._data_params is not None:
      params, n = merge_matching(state.params, self._data_params)
      logging.info("data_init: %d parameter tensors set from %d training images", n, self.config.data_init_images)
      state = state.replace(params=params, opt_state=self.spec.tx.init(params))
    if self.config.get("freeze") and not any(jax.tree.leaves(path_mask(state.params, self.spec.freeze))):
      raise UserError(f"freeze: {self.spec.freeze!r} matches no parameter path")
    if not self.config.get("init_from"):
      return state
    if self._loaded is None:
      self._loaded = load_variables(self.config.init_from)
    params, n = merge_matching(state.params, self._loaded["params"], self._exclude)
    stats, _ = merge_matching(state.batch_stats, self._loaded["batch_stats"], self._exclude)
    if not n:
      raise UserError(f"init_from: no parameter of {self.config.init_from} matches the model by path and shape")
    logging.info("init_from %s: copied %d of %d parameter tensors", self.config.init_from, n,
                 len(jax.tree.leaves(params)))
    return state.replace(params=params, batch_stats=stats, opt_state=self.spec.tx.init(params))

  def logits(self, state, images: jax.Array) -> jax.Array:
    """Evaluation-mode logits (with flip averaging when configured)."""
    return classifier_step.eval_step(self.spec, state, {"image": images})

  def evaluate_batches(self, state, batches) -> tuple[dict, np.ndarray]:
    """Accuracy, top-5 accuracy, loss and example count over masked batches; and the confusion matrix."""
    totals, confusion = None, 0
    for batch in batches:
      sums, conf = jax.device_get(self._sums(state, batch))
      totals = sums if totals is None else {k: totals[k] + v for k, v in sums.items()}
      confusion = confusion + np.asarray(conf, np.int64)
    totals = {k: float(v) for k, v in totals.items()}
    n = max(totals["count"], 1.0)
    results = {"accuracy": totals["correct"] / n, "loss": totals["loss"] / n, "examples": totals["count"]}
    if "correct5" in totals:
      results["top5_accuracy"] = totals["correct5"] / n
    return results, confusion

  def evaluate(self, state, step: int, workdir: str) -> dict:
    """One pass over `config.eval_split`: `<split>_accuracy`, `_top5_accuracy`, `_loss`, `_examples`.

    At the last step, also writes DIR/confusion/step_<N>.png.
    """
    split = self.config.get("eval_split", "test")
    if self._eval is None:
      self._eval = eval_dataset(self.config, split)
    ds, n = self._eval
    batches = padded_batches(ds, n, self.config.eval_batch_size, self.mesh)
    results, confusion = self.evaluate_batches(state, batches)
    if step >= self.config.total_steps and jax.process_index() == 0:
      builder = sources.get_builder(self.config.dataset, self.config.get("data_dir"))
      names = builder.info.features["label"].names
      save_confusion(confusion, names, os.path.join(workdir, "confusion", f"step_{step}.png"),
                     f"{self.config.get('experiment', '')} step {step}: {split} accuracy "
                     f"{results['accuracy']:.4f}")
    return {f"{split}_{k}": v for k, v in results.items()}
