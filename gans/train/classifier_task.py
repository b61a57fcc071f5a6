"""The classifier task: builds a ClassifierSpec from a config and gives the loop its init, step and evaluation.

Config keys read here (see `configs.common.classifier_config`): `model` (`name` plus keyword arguments
of the registered constructor, `dtype` by name), `optimizer` (`gans.train.optim.make`),
`decay_norm_and_bias`, `label_smoothing`, `tta_flip`, `tta_shift`, `freeze`, `init_from`, `init_from_exclude`,
`data_init_images`, `eval_split`, `eval_batch_size`, `eval_preprocess`, `validation_examples` (train on all
but the train split's last N examples and evaluate on those N, to choose a recipe without the test split).

Evaluation is one ordered pass over the whole evaluation split: the last, partial batch is padded and
masked, so every example counts exactly once.
"""
import functools
import os
import re

import jax
import jax.numpy as jnp
import numpy as np
import optax
from absl import logging
from ml_collections import ConfigDict

from gans import checkpoint, parallel, visualize
from gans.data import eval_input, pipeline, sources
from gans.errors import UserError
from gans.models import classifiers
from gans.train import classifier_step, optim
from gans.train.task import TASKS, WholeStep

FROZEN, TRAINED = "frozen", "trained"
path_mask, path_str = classifier_step.path_mask, classifier_step.path_str


def _compile(name: str, pattern: str) -> str:
  try:
    re.compile(pattern)
  except re.error as e:
    raise UserError(f"{name}: bad regular expression {pattern!r} ({e})") from None
  return pattern


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
      model=classifiers.from_config(config.model, num_classes), tx=tx, num_classes=num_classes,
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


@TASKS.register("classifier")
class ClassifierTask:
  """A classifier (`gans.train.task.Task`): init, step and evaluation on the test split."""

  def __init__(self, config: ConfigDict, data: pipeline.DataSpec, mesh):
    if data.num_classes < 2:
      raise UserError(f"dataset {config.dataset} has no class labels to train a classifier on")
    self.config, self.data, self.mesh = config, data, mesh
    self.spec = build_spec(config, data.num_classes)
    self.examples_per_step = config.batch_size
    self.step = WholeStep(functools.partial(classifier_step.train_step, self.spec))
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
      self._data_params = data_init(eval_input.first_train_images(config, n))
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
      try:
        self._loaded, _ = checkpoint.load_variables(self.config.init_from)
      except UserError as e:
        raise UserError(f"init_from: {e}") from None
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
    """One pass over `config.eval_split`: `<split>_accuracy`, `_top5_accuracy`, `_loss`, `_examples`; over the
    held-out end of the train split instead (`validation_accuracy`, ...) where `validation_examples` is set.

    At the last step, also writes DIR/confusion/step_<N>.png.
    """
    held_out = pipeline.validation_split(self.config)
    split = held_out or self.config.get("eval_split", "test")
    name = "validation" if held_out else split
    if self._eval is None:
      self._eval = eval_input.eval_dataset(self.config, split)
    ds, n = self._eval
    batches = eval_input.padded_batches(ds, n, self.config.eval_batch_size, self.mesh)
    results, confusion = self.evaluate_batches(state, batches)
    if step >= self.config.total_steps and jax.process_index() == 0:
      builder = sources.get_builder(self.config.dataset, self.config.get("data_dir"))
      names = builder.info.features["label"].names
      visualize.save_confusion(confusion, names, os.path.join(workdir, "confusion", f"step_{step}.png"),
                     f"{self.config.get('experiment', '')} step {step}: {name} accuracy "
                     f"{results['accuracy']:.4f}")
    return {f"{name}_{k}": v for k, v in results.items()}
