"""Discriminator gradient penalties and WGAN weight clipping, as small pure functions.

Every penalty has the signature `penalty(d_fn, real, fake, key) -> scalar` where `d_fn(x)` maps a
batch to one output per sample (`[B]` or `[B, 1]`) and is already closed over parameters, labels
etc., so `jax.grad` of `loss + weight * penalty` w.r.t. those parameters differentiates through the
input gradient (double backprop). Batches may have any rank (`[B, 2]` toy data, `[B, H, W, C]`
images); gradient norms are taken per sample over ALL non-batch axes.

Penalties return the UNWEIGHTED value; the caller multiplies by its weight (lambda = 10 for WGAN-GP
and DRAGAN, gamma for R1). This keeps one signature for every penalty and the weight in the config.

Per-sample input gradients come from `jax.grad` of the SUM of D's outputs over the batch: the
derivative of sum_j D(x_j) w.r.t. x_i is grad D(x_i) only when samples do not interact inside D.
That holds for conv/dense/layer-norm critics but NOT with BatchNorm in training mode (the batch
statistics couple samples), which is why WGAN-GP's critic has no BN (Gulrajani et al. 2017 sec. 4).
"""

import inspect
from typing import Any, Callable

import jax
import jax.numpy as jnp

from gans.errors import UserError
from gans.registry import Registry

Array = jax.Array
Penalty = Callable[[Callable[[Array], Array], Array, Array, Array], Array]

# Added under the square root so the norm's derivative stays finite at a zero gradient.
_NORM_EPS = 1e-12


def _check_batch(x: Array, what: str) -> None:
  if x.ndim < 2:
    raise UserError(f"{what} must be a batch [B, ...] with at least 2 dims, got shape {x.shape}.")
  if not jnp.issubdtype(x.dtype, jnp.floating):
    raise UserError(f"{what} must be floating point to take input gradients, got {x.dtype}.")


def _per_sample_sq_grad_norms(d_fn: Callable[[Array], Array], x: Array) -> Array:
  """||grad_x D(x_i)||^2 for each sample, summed over all non-batch axes -> [B] float32."""
  batch = x.shape[0]

  def total(x):
    out = d_fn(x)
    if out.shape not in ((batch,), (batch, 1)):
      raise UserError(f"Critic output must have shape [B] or [B, 1] (B={batch}), got {out.shape}.")
    return jnp.sum(out.astype(jnp.float32))

  grads = jax.grad(total)(x).astype(jnp.float32)
  return jnp.sum(jnp.square(grads.reshape(batch, -1)), axis=1)


def _unit_norm_penalty(d_fn: Callable[[Array], Array], x_hat: Array) -> Array:
  """E[(||grad D(x_hat)||_2 - 1)^2], norms per sample."""
  norms = jnp.sqrt(_per_sample_sq_grad_norms(d_fn, x_hat) + _NORM_EPS)
  return jnp.mean(jnp.square(norms - 1.0))


def _per_sample_uniform(key: Array, x: Array) -> Array:
  """U[0, 1) per sample, shaped [B, 1, ..., 1] to broadcast over x."""
  shape = (x.shape[0],) + (1,) * (x.ndim - 1)
  return jax.random.uniform(key, shape, jnp.float32).astype(x.dtype)


def interpolate(real: Array, fake: Array, key: Array) -> Array:
  """x_hat = eps * real + (1 - eps) * fake, eps ~ U[0, 1] per sample (Gulrajani et al. 2017 Alg. 1
  lines 4-6)."""
  if real.shape != fake.shape:
    raise UserError(f"real and fake batches must have the same shape, got {real.shape} and "
                    f"{fake.shape}.")
  eps = _per_sample_uniform(key, real)
  return eps * real + (1 - eps) * fake


def gradient_penalty(d_fn: Callable[[Array], Array], real: Array, fake: Array,
                     key: Array) -> Array:
  """WGAN-GP: E[(||grad D(x_hat)||_2 - 1)^2] on random interpolates (Gulrajani et al. 2017 Alg. 1
  line 7, without lambda)."""
  _check_batch(real, "real")
  return _unit_norm_penalty(d_fn, interpolate(real, fake, key))


def dragan_perturb(real: Array, key: Array, c: float = 0.5) -> Array:
  """Points near the real data where DRAGAN penalises the gradient (Kodali et al. 2017).

  The paper writes x + delta with delta ~ N(0, cI); we follow the authors' reference code
  (kodalinaveen3/DRAGAN, used for their experiments): x_p = x + c * std(x) * u with u ~ U[0, 1)
  per element and std over the whole real batch, then x_hat = x + alpha * (x_p - x) with
  alpha ~ U[0, 1) per sample. (compare_gan and chainer-gan-lib draw u from U[-1, 1) instead.)
  """
  _check_batch(real, "real")
  key_u, key_alpha = jax.random.split(key)
  std = jnp.std(real.astype(jnp.float32))
  delta = (c * std * jax.random.uniform(key_u, real.shape, jnp.float32)).astype(real.dtype)
  return real + _per_sample_uniform(key_alpha, real) * delta


def dragan_penalty(d_fn: Callable[[Array], Array], real: Array, fake: Array, key: Array,
                   c: float = 0.5) -> Array:
  """DRAGAN: E[(||grad D(x_hat)||_2 - 1)^2] on `dragan_perturb(real, key, c)` (Kodali et al. 2017,
  without lambda). `fake` is unused."""
  del fake
  return _unit_norm_penalty(d_fn, dragan_perturb(real, key, c))


def r1_penalty(d_fn: Callable[[Array], Array], real: Array, fake: Array, key: Array) -> Array:
  """R1: E[||grad_x D(x)||^2] / 2 on real data (Mescheder et al. 2018 sec. 4.1, without gamma).
  `fake` and `key` are unused."""
  del fake, key
  _check_batch(real, "real")
  return 0.5 * jnp.mean(_per_sample_sq_grad_norms(d_fn, real))


def no_penalty(d_fn: Callable[[Array], Array], real: Array, fake: Array, key: Array) -> Array:
  """Zero: for configs without a penalty."""
  del d_fn, real, fake, key
  return jnp.zeros((), jnp.float32)


def clip_weights(params: Any, c: float) -> Any:
  """Clips every leaf of a parameter pytree to [-c, c] (WGAN, Arjovsky et al. 2017 Alg. 1 line 7;
  c = 0.01 there). Apply after each critic update."""
  if not c > 0:
    raise UserError(f"Weight clipping bound must be > 0, got {c}.")
  return jax.tree.map(lambda p: jnp.clip(p, -c, c), params)


PENALTIES: Registry[Penalty] = Registry("penalty")
PENALTIES.register("none", no_penalty)
PENALTIES.register("gradient_penalty", gradient_penalty)
PENALTIES.register("dragan", dragan_penalty)
PENALTIES.register("r1", r1_penalty)
_SIGNATURE_ARGS = ("d_fn", "real", "fake", "key")


def get_penalty(name: str, **kwargs: float) -> Penalty:
  """Returns the penalty `name` as `fn(d_fn, real, fake, key) -> scalar`, with options bound (only
  `dragan` has one: c).

  Raises:
    UserError: unknown name or option.
  """
  fn = PENALTIES.get(name)
  allowed = set(inspect.signature(fn).parameters) - set(_SIGNATURE_ARGS)
  unknown = sorted(set(kwargs) - allowed)
  if unknown:
    raise UserError(f"Penalty {name!r} takes no option(s) {unknown}; it takes {sorted(allowed)}.")
  if not kwargs:
    return fn
  return lambda d_fn, real, fake, key: fn(d_fn, real, fake, key, **kwargs)
