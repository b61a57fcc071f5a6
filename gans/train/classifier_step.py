"""One classifier train step and the evaluation forward pass.

`train_step(spec, state, batch, rng) -> (state, metrics)` is pure and jittable; bind the spec with
`functools.partial` to get the loop's `(state, batch, rng)` form. The loss is softmax cross-entropy
against label-smoothed one-hot targets (Szegedy et al. 2016, sec. 7), computed in float32 whatever the
model's compute dtype; weight decay lives in the optimizer (see `gans.train.optim.make`).
"""
import dataclasses
import functools
import re
from typing import Any

import flax
import flax.linen as nn
import jax
import jax.numpy as jnp
import optax

from gans.train import optim


@flax.struct.dataclass
class ClassifierState:
  """A classifier's whole state: a pytree of arrays only (model and optimizer live in the spec)."""
  step: jax.Array
  params: Any
  batch_stats: Any
  opt_state: Any
  ema: Any = None  # {'params', 'batch_stats'} averaged over steps, or None when ema_decay == 0


@dataclasses.dataclass(frozen=True)
class ClassifierSpec:
  """Everything a classifier step closes over.

  Attributes:
    model: a module called as `model.apply(variables, x, train=...)`, returning logits.
    tx: the optimizer (already masked for frozen parameters, if any).
    num_classes: number of logits.
    label_smoothing: alpha in (1 - alpha) * one_hot + alpha / num_classes.
    tta_flip: at evaluation, average the logits of each image and its left-right mirror.
    tta_shift: if > 0, at evaluation also average over the image shifted by this many pixels up, down,
      left and right (the border repeated into the gap): 5 views, or 10 with `tta_flip`.
    freeze: regex of variable paths ('stage1/block0/conv/kernel') kept fixed; the optimizer `tx` must
      already give them zero updates, the step keeps their BatchNorm statistics fixed.
    accum_steps: split each batch into this many micro-batches, run them one after the other and
      apply one update with the mean gradient (equal to the large-batch update for models without
      BatchNorm; with BatchNorm each micro-batch uses its own statistics). Peak memory is one micro-batch's.
    ema_decay: if > 0, keep an exponential moving average of the parameters and BatchNorm statistics
      (Polyak & Juditsky 1992; decay d: ema <- d * ema + (1 - d) * new after every update), which
      evaluation then uses.
  """
  model: nn.Module
  tx: optax.GradientTransformation
  num_classes: int
  label_smoothing: float = 0.0
  tta_flip: bool = False
  tta_shift: int = 0
  freeze: str = ""
  accum_steps: int = 1
  ema_decay: float = 0.0


def path_str(path) -> str:
  """'block1/conv/kernel' for a jax tree path."""
  return "/".join(str(getattr(k, "key", getattr(k, "idx", k))) for k in path)


def path_mask(tree, pattern: str):
  """Pytree of bools like `tree`: True where `pattern` is found (re.search) in the leaf's path."""
  rx = re.compile(pattern)
  return jax.tree_util.tree_map_with_path(lambda p, _: bool(pattern) and bool(rx.search(path_str(p))), tree)


def init_state(spec: ClassifierSpec, rng: jax.Array, data_shape: tuple[int, ...]) -> ClassifierState:
  """Initial state for examples of `data_shape` (without the batch dimension)."""
  variables = spec.model.init({"params": rng, "dropout": rng}, jnp.zeros((1, *data_shape)), train=False)
  params, stats = variables["params"], variables.get("batch_stats", {})
  # the average gets its own buffers, so the state can be donated
  ema = jax.tree.map(jnp.copy, {"params": params, "batch_stats": stats}) if spec.ema_decay else None
  return ClassifierState(jnp.zeros((), jnp.int32), params, stats, spec.tx.init(params), ema)


def cross_entropy(logits: jax.Array, labels: jax.Array, num_classes: int,
                  label_smoothing: float = 0.0) -> jax.Array:
  """Per-example softmax cross-entropy (float32) against label-smoothed one-hot targets."""
  targets = optax.smooth_labels(jax.nn.one_hot(labels, num_classes), label_smoothing)
  return optax.softmax_cross_entropy(logits.astype(jnp.float32), targets)


def _grads(spec: ClassifierSpec, params, batch_stats, batch, rng):
  """Gradient of the mean loss on one (micro-)batch; returns (grads, new batch_stats, metrics)."""
  images, labels = batch

  def loss_fn(params):
    variables = {"params": params, "batch_stats": batch_stats}
    if batch_stats:
      logits, updates = spec.model.apply(variables, images, train=True, mutable=["batch_stats"],
                                         rngs={"dropout": rng})
      stats = updates["batch_stats"]
    else:
      logits = spec.model.apply(variables, images, train=True, rngs={"dropout": rng})
      stats = batch_stats
    loss = cross_entropy(logits, labels, spec.num_classes, spec.label_smoothing).mean()
    return loss, (stats, {"loss": loss, "accuracy": jnp.mean(jnp.argmax(logits, -1) == labels)})

  grads, (stats, metrics) = jax.grad(loss_fn, has_aux=True)(params)
  return grads, stats, metrics


def train_step(spec: ClassifierSpec, state: ClassifierState, batch: dict,
               rng: jax.Array) -> tuple[ClassifierState, dict]:
  """One optimizer update on `batch` {'image', 'label'}; metrics are the batch's loss and accuracy."""
  grads, stats, metrics = optim.accumulate_gradients(
      functools.partial(_grads, spec), state.params, state.batch_stats, (batch["image"], batch["label"]),
      spec.accum_steps, jax.random.fold_in(rng, state.step))
  if spec.freeze:  # frozen layers keep their running statistics too
    stats = jax.tree.map(lambda keep, old, new: old if keep else new, path_mask(stats, spec.freeze),
                         state.batch_stats, stats)
  updates, opt_state = spec.tx.update(grads, state.opt_state, state.params)
  params = optax.apply_updates(state.params, updates)
  ema = state.ema
  if spec.ema_decay:
    ema = optax.incremental_update({"params": params, "batch_stats": stats}, ema, 1.0 - spec.ema_decay)
  return ClassifierState(state.step + 1, params, stats, opt_state, ema), metrics


def eval_step(spec: ClassifierSpec, state: ClassifierState, batch: dict) -> jax.Array:
  """Float32 logits of `batch['image']` in inference mode (running BatchNorm statistics).

  The variables are the moving average when the state keeps one. With `spec.tta_flip` / `spec.tta_shift`
  the logits are the mean over the mirrored / shifted views too (`ClassifierSpec`).
  """
  variables = state.ema if state.ema is not None else {"params": state.params,
                                                       "batch_stats": state.batch_stats}
  views = [batch["image"]]
  if spec.tta_shift:
    s, (h, w) = spec.tta_shift, views[0].shape[1:3]
    padded = jnp.pad(views[0], ((0, 0), (s, s), (s, s), (0, 0)), mode="edge")
    views += [padded[:, s + dy:s + dy + h, s + dx:s + dx + w] for dy, dx in ((s, 0), (-s, 0), (0, s), (0, -s))]
  if spec.tta_flip:
    views += [v[:, :, ::-1] for v in views]
  logits = [spec.model.apply(variables, v, train=False).astype(jnp.float32) for v in views]
  return sum(logits) / len(logits)
