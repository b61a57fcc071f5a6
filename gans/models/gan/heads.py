"""Discriminator parts shared by the GAN families: output heads, minibatch discrimination, spectral norm.

A discriminator body ends in a feature vector h [B, F]; `outputs` maps it to what the GAN variant asks
for (`outputs`). With only the adversarial head it returns the logits [B] themselves (the unconditional path);
with more it returns a dict:
  'adv'           real/fake logit or critic value [B]
  'class_logits'  K class logits [B, K] (ACGAN, Odena et al. 2017; SGAN, Salimans et al. 2016)
  'q'             InfoGAN's Q head [B, q_dim], sharing D's body (Chen et al. 2016, sec. 5)
  'features'      h itself (feature matching, Salimans et al. 2016, sec. 3.1)
"""
from typing import Any, Callable

import flax.linen as nn
import jax.numpy as jnp

from gans.models import layers


def dense(features: int, spectral_norm: bool, train: bool, dtype, **kw):
  """A Dense layer, spectrally normalised when asked (Miyato et al. 2018; power-iteration state `u`
  and `sigma` live in the 'batch_stats' collection and advance only when `train`)."""
  layer = nn.Dense(features, dtype=dtype, **kw)
  if not spectral_norm:
    return layer
  return lambda x: nn.SpectralNorm(layer)(x, update_stats=train)


def conv(features: int, kernel, strides, spectral_norm: bool, train: bool, dtype, **kw):
  """A Conv layer, spectrally normalised (kernel reshaped to [k*k*C_in, C_out]) when asked."""
  # Faster input gradient for stride-divides-kernel convs on XLA:CPU (docs/performance.md).
  layer = nn.Conv(features, kernel, strides, dtype=dtype, conv_general_dilated=layers.conv_general_dilated, **kw)
  if not spectral_norm:
    return layer
  return lambda x: nn.SpectralNorm(layer)(x, update_stats=train)


class MinibatchDiscrimination(nn.Module):
  """Minibatch discrimination (Salimans et al. 2016, sec. 3.2).

  M_i = f(x_i) T in R^{B x C} (T in R^{A x B x C}), c_b(x_i, x_j) = exp(-||M_{i,b} - M_{j,b}||_L1),
  o(x_i)_b = sum_{j=1}^n c_b(x_i, x_j) (j = i included, as in the paper's sum and code); returns
  [f(x_i), o(x_i)] of width A + B. Samples interact: do not combine with an input-gradient penalty.
  """
  num_kernels: int = 50  # B
  kernel_dim: int = 5  # C
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, f):
    t = self.param("T", nn.initializers.normal(0.05), (f.shape[-1], self.num_kernels * self.kernel_dim))
    m = (f.astype(jnp.float32) @ t).reshape(f.shape[0], self.num_kernels, self.kernel_dim)
    l1 = jnp.sum(jnp.abs(m[:, None] - m[None, :]), axis=-1)  # [n, n, B]
    o = jnp.sum(jnp.exp(-l1), axis=1)
    return jnp.concatenate([f, o.astype(f.dtype)], axis=-1)


def outputs(h, train: bool, *, adv: bool = True, num_classes: int = 0, q_dim: int = 0, q_hidden: int = 128,
            minibatch_kernels: int = 0, minibatch_dim: int = 5, features: bool = False, spectral_norm: bool = False,
            kernel_init: Callable = nn.initializers.lecun_normal(), dtype: Any = jnp.float32):
  """Feature vector [B, F] -> logits [B], or a dict of heads when more than `adv` is asked for.

  Call it inside a discriminator's compact `__call__`: its layers are that module's own (so the
  plain adversarial head keeps the name and initialisation it had as the last Dense layer).
  """
  out = {}
  if features:
    out["features"] = h.astype(jnp.float32)
  body = h
  if minibatch_kernels:
    body = MinibatchDiscrimination(minibatch_kernels, minibatch_dim, dtype)(h)
  if adv:
    out["adv"] = dense(1, spectral_norm, train, dtype, kernel_init=kernel_init)(body)[:, 0].astype(jnp.float32)
  if num_classes:
    out["class_logits"] = dense(num_classes, spectral_norm, train, dtype, kernel_init=kernel_init)(body).astype(
        jnp.float32)
  if q_dim:  # Chen et al. 2016, sec. C.1: Q is one FC layer on D's features, then the code outputs.
    q = nn.leaky_relu(nn.Dense(q_hidden, dtype=dtype)(h), 0.2)
    out["q"] = nn.Dense(q_dim, dtype=dtype)(q).astype(jnp.float32)
  return out["adv"] if set(out) == {"adv"} else out
