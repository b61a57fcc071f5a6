"""Optimizers and learning-rate schedules from config (built with optax), and gradient accumulation."""
from typing import Any, Callable, NamedTuple

import jax
import jax.numpy as jnp
import optax
from ml_collections import ConfigDict

from gans.errors import UserError


def schedule(cfg: ConfigDict, total_steps: int) -> optax.Schedule:
  """`constant`, `cosine` (with `warmup_steps`) or `step` (x `decay_factor` at each of `boundaries`)."""
  kind = cfg.get("schedule", "constant")
  lr, warmup = cfg.learning_rate, cfg.get("warmup_steps", 0)
  if kind == "constant":
    main = optax.constant_schedule(lr)
  elif kind == "cosine":
    main = optax.cosine_decay_schedule(lr, max(total_steps - warmup, 1))
  elif kind == "step":
    main = optax.piecewise_constant_schedule(
        lr, {int(b * total_steps if b < 1 else b) - warmup: cfg.get("decay_factor", 0.1)
             for b in cfg.boundaries})
  else:
    raise UserError(f"unknown schedule {kind!r}; known: constant, cosine, step")
  if warmup:
    return optax.join_schedules([optax.linear_schedule(0.0, lr, warmup), main], [warmup])
  return main


def make(cfg: ConfigDict, total_steps: int, mask=None) -> optax.GradientTransformation:
  """Builds `cfg.name` in {adam, adamw, rmsprop, sgd} (sgd: `momentum`, `nesterov`), wrapped in `lookahead`
  when `cfg.lookahead_every` is set (> 0).

  `mask` (a pytree of bools like the params, or a function of the params to one) limits weight
  decay (adamw, sgd) to the True leaves; None decays every parameter.
  """
  every = cfg.get("lookahead_every", 0)
  if not isinstance(every, int) or every < 0:
    raise UserError(f"lookahead_every must be an integer >= 0 (0: no lookahead), got {every!r}")
  tx = _base_optimizer(cfg, total_steps, mask)
  return lookahead(tx, total_steps, every) if every else tx


def _base_optimizer(cfg: ConfigDict, total_steps: int, mask) -> optax.GradientTransformation:
  lr = schedule(cfg, total_steps)
  name = cfg.name
  if name == "adam":
    return optax.adam(lr, b1=cfg.get("b1", 0.9), b2=cfg.get("b2", 0.999), eps=cfg.get("eps", 1e-8))
  if name == "adamw":
    return optax.adamw(lr, b1=cfg.get("b1", 0.9), b2=cfg.get("b2", 0.999),
                       weight_decay=cfg.get("weight_decay", 1e-4), mask=mask)
  if name == "rmsprop":  # WGAN uses RMSProp (Arjovsky et al. 2017, sec. 3)
    return optax.rmsprop(lr, decay=cfg.get("decay", 0.9), eps=cfg.get("eps", 1e-8))
  if name == "sgd":
    tx = optax.sgd(lr, momentum=cfg.get("momentum", 0.9) or None, nesterov=cfg.get("nesterov", False))
    wd = cfg.get("weight_decay", 0.0)
    return optax.chain(optax.add_decayed_weights(wd, mask), tx) if wd else tx
  raise UserError(f"unknown optimizer {name!r}; known: adam, adamw, rmsprop, sgd")


class LookaheadState(NamedTuple):
  inner: Any
  slow: Any  # the slow weights
  count: jax.Array  # updates made so far


def lookahead(inner: optax.GradientTransformation, total_steps: int, every: int = 5,
              max_decay: float = 0.95 ** 5) -> optax.GradientTransformation:
  """Lookahead (Zhang et al. 2019) as airbench uses it (Jordan 2024, arXiv 2404.00498, and its airbench94.py).

  `inner` moves the fast weights every step. After update t (counting from 1), when `every` divides t, the
  slow weights move to d * slow + (1 - d) * fast with d = max_decay * (t / total_steps)^3 (a cubic ramp:
  ~0 early, 0.95^5 at the end) and the fast weights restart from them; after update `total_steps` the
  weights are the slow ones. The reference also averages BatchNorm's running statistics; those are not
  parameters and are left to the model. Holds one extra copy of the parameters.
  """

  def init(params):
    return LookaheadState(inner.init(params), jax.tree.map(jnp.array, params), jnp.zeros([], jnp.int32))

  def update(updates, state, params):
    updates, inner_state = inner.update(updates, state.inner, params)
    count = state.count + 1
    fast = optax.apply_updates(params, updates)
    decay = max_decay * jnp.minimum(count / total_steps, 1.0) ** 3
    sync = count % every == 0
    slow = jax.tree.map(lambda s, f: jnp.where(sync, decay * s + (1 - decay) * f, s).astype(s.dtype),
                        state.slow, fast)
    take_slow = sync | (count == total_steps)
    updates = jax.tree.map(lambda s, f, p: jnp.where(take_slow, s, f) - p, slow, fast, params)
    return updates, LookaheadState(inner_state, slow, count)

  return optax.GradientTransformation(init, update)


def accum_steps(config: ConfigDict, multiple_of: int = 1) -> int:
  """`config.grad_accum_steps`, checked: it must divide `batch_size` into micro-batches of a multiple of
  `multiple_of` examples (e.g. PacGAN's packing degree)."""
  k = config.get("grad_accum_steps", 1)
  if k < 1 or config.batch_size % (k * multiple_of):
    extra = f" into micro-batches divisible by {multiple_of}" if multiple_of > 1 else ""
    raise UserError(f"grad_accum_steps must be >= 1 and divide batch_size {config.batch_size}{extra}, got {k}")
  return k


def accumulate_gradients(grad_fn: Callable, params: Any, stats: Any, inputs: Any, num_micro: int,
                         rng: jax.Array) -> tuple[Any, Any, Any]:
  """Mean gradient over `num_micro` micro-batches of `inputs`, run one after another (lax.scan).

  `grad_fn(params, stats, micro_inputs, rng) -> (grads, stats, metrics)`; every leaf of `inputs` has the
  batch on axis 0 and micro-batch i takes examples i, i + k, i + 2k, ... (k = num_micro), which keeps the
  batch sharding on axis 0. BatchNorm statistics pass from one micro-batch to the next; metrics are
  averaged. Peak memory is one micro-batch's. With num_micro == 1 this is `grad_fn(params, stats, inputs, rng)`.
  """
  if num_micro == 1:
    return grad_fn(params, stats, inputs, rng)
  k = num_micro
  micro = jax.tree.map(lambda x: x.reshape(x.shape[0] // k, k, *x.shape[1:]), inputs)

  def body(carry, i):
    grad_sum, stats = carry
    inputs_i = jax.tree.map(lambda x: jax.lax.dynamic_index_in_dim(x, i, axis=1, keepdims=False), micro)
    grads, stats, metrics = grad_fn(params, stats, inputs_i, jax.random.fold_in(rng, i))
    return (jax.tree.map(jnp.add, grad_sum, grads), stats), metrics

  zeros = jax.tree.map(jnp.zeros_like, params)
  (grad_sum, stats), metrics = jax.lax.scan(body, (zeros, stats), jnp.arange(k))
  return jax.tree.map(lambda g: g / k, grad_sum), stats, jax.tree.map(lambda m: m.mean(0), metrics)
