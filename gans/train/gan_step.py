"""One GAN train step, written once and parameterised by loss, penalty, n_critic, clipping and EMA.

`train_step(spec, state, batch, rng) -> (state, metrics)` is pure and jittable; bind the spec with
`functools.partial` to get the `(state, batch, rng)` form. Per call it does `n_critic` discriminator
updates, each on its own real minibatch and fresh z (Goodfellow et al. 2014, Alg. 1; Arjovsky et al.
2017, Alg. 1), then one generator update, then the EMA of G's weights (Karras et al. 2018, sec. A.1;
Yazici et al. 2019).
"""
import dataclasses
from typing import Any, Callable

import flax
import flax.linen as nn
import jax
import jax.numpy as jnp
import optax

from gans import losses, penalties


@flax.struct.dataclass
class NetState:
  """One network's trainable state."""
  params: Any
  batch_stats: Any
  opt_state: Any


@flax.struct.dataclass
class GANState:
  """The whole GAN state: a pytree of arrays only (models and optimizers live in the GANSpec)."""
  step: jax.Array
  g: NetState
  d: NetState
  g_ema: Any  # EMA of G's params, or None when ema_decay == 0


@dataclasses.dataclass(frozen=True)
class GANSpec:
  """Everything a GAN step closes over."""
  generator: nn.Module
  discriminator: nn.Module
  g_tx: optax.GradientTransformation
  d_tx: optax.GradientTransformation
  loss: losses.GANLoss
  penalty: Callable = penalties.get_penalty("none")
  penalty_weight: float = 0.0
  n_critic: int = 1
  z_dim: int = 100
  ema_decay: float = 0.0
  weight_clip: float = 0.0  # WGAN critic weight clipping to [-c, c] (Arjovsky et al. 2017, Alg. 1 line 7)
  batch_sharding: Any = None  # when set, z and fakes are sharded like the real batch


def _apply(module, params, batch_stats, x, train):
  """Runs a module; returns (output, new batch_stats)."""
  variables = {"params": params, "batch_stats": batch_stats}
  if train and batch_stats:
    out, updates = module.apply(variables, x, train=True, mutable=["batch_stats"])
    return out, updates["batch_stats"]
  return module.apply(variables, x, train=train), batch_stats


def _init_net(module, tx, rng, x):
  variables = module.init(rng, x, train=False)
  params = variables["params"]
  return NetState(params, variables.get("batch_stats", {}), tx.init(params))


def init_state(spec: GANSpec, rng: jax.Array, data_shape: tuple[int, ...]) -> GANState:
  """Initial state for examples of `data_shape` (without the batch dimension)."""
  g_rng, d_rng = jax.random.split(rng)
  g = _init_net(spec.generator, spec.g_tx, g_rng, jnp.zeros((1, spec.z_dim)))
  d = _init_net(spec.discriminator, spec.d_tx, d_rng, jnp.zeros((1, *data_shape)))
  return GANState(jnp.zeros((), jnp.int32), g, d, g.params if spec.ema_decay else None)


def _latent(spec: GANSpec, rng, batch_size):
  z = jax.random.normal(rng, (batch_size, spec.z_dim))
  return z if spec.batch_sharding is None else jax.lax.with_sharding_constraint(z, spec.batch_sharding)


def _d_update(spec: GANSpec, g: NetState, d: NetState, real, rng):
  z_rng, p_rng = jax.random.split(rng)
  fake, _ = _apply(spec.generator, g.params, g.batch_stats, _latent(spec, z_rng, real.shape[0]), True)
  fake = jax.lax.stop_gradient(fake)

  def loss_fn(params):
    real_out, stats = _apply(spec.discriminator, params, d.batch_stats, real, True)
    fake_out, stats = _apply(spec.discriminator, params, stats, fake, True)
    loss = spec.loss.d_loss(real_out, fake_out)
    penalty = spec.penalty(lambda x: _apply(spec.discriminator, params, stats, x, True)[0], real, fake, p_rng)
    metrics = {"d_loss": loss, "penalty": penalty, "d_real": real_out.mean(), "d_fake": fake_out.mean()}
    return loss + spec.penalty_weight * penalty, (stats, metrics)

  grads, (stats, metrics) = jax.grad(loss_fn, has_aux=True)(d.params)
  updates, opt_state = spec.d_tx.update(grads, d.opt_state, d.params)
  params = optax.apply_updates(d.params, updates)
  if spec.weight_clip:
    params = penalties.clip_weights(params, spec.weight_clip)
  return NetState(params, stats, opt_state), metrics


def _g_update(spec: GANSpec, g: NetState, d: NetState, real, rng):
  z = _latent(spec, rng, real.shape[0])

  def loss_fn(params):
    fake, stats = _apply(spec.generator, params, g.batch_stats, z, True)
    fake_out, _ = _apply(spec.discriminator, d.params, d.batch_stats, fake, True)  # D's stats left as they are
    return spec.loss.g_loss(fake_out), stats

  (loss, stats), grads = jax.value_and_grad(loss_fn, has_aux=True)(g.params)
  updates, opt_state = spec.g_tx.update(grads, g.opt_state, g.params)
  return NetState(optax.apply_updates(g.params, updates), stats, opt_state), {"g_loss": loss}


def train_step(spec: GANSpec, state: GANState, batch: dict, rng: jax.Array) -> tuple[GANState, dict]:
  """n_critic D updates then one G update. `batch['image']` holds n_critic * batch_size examples."""
  rng = jax.random.fold_in(rng, state.step)
  d_rngs = jax.random.split(jax.random.fold_in(rng, 0), spec.n_critic)
  images = batch["image"]
  m = images.shape[0] // spec.n_critic
  # Row r holds examples r*n_critic .. r*n_critic+n_critic-1: keeps the batch sharding on axis 0.
  reals = images.reshape(m, spec.n_critic, *images.shape[1:])

  def d_body(i, carry):
    d, _ = carry
    real = jax.lax.dynamic_index_in_dim(reals, i, axis=1, keepdims=False)
    return _d_update(spec, state.g, d, real, d_rngs[i])

  d, d_metrics = _d_update(spec, state.g, state.d, reals[:, 0], d_rngs[0])
  if spec.n_critic > 1:
    d, d_metrics = jax.lax.fori_loop(1, spec.n_critic, d_body, (d, d_metrics))
  g, g_metrics = _g_update(spec, state.g, d, reals[:, 0], jax.random.fold_in(rng, 1))
  g_ema = state.g_ema
  if spec.ema_decay:
    g_ema = optax.incremental_update(g.params, g_ema, 1.0 - spec.ema_decay)
  return GANState(state.step + 1, g, d, g_ema), {**d_metrics, **g_metrics}


def generate(spec: GANSpec, state: GANState, z: jax.Array, use_ema: bool = True) -> jax.Array:
  """Samples G(z) in inference mode (running BatchNorm statistics), from the EMA weights if kept."""
  params = state.g_ema if use_ema and state.g_ema is not None else state.g.params
  return _apply(spec.generator, params, state.g.batch_stats, z, False)[0]
