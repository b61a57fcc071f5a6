"""Fully connected generator and discriminator (Goodfellow et al. 2014, sec. 5).

Used for the 2-D toy mixtures (PacGAN protocol, Lin et al. 2018) and the original GAN on MNIST.
Conditioning (CGAN, Mirza & Osindero 2014, sec. 4.1): G gets [z, y] and D gets [x, y], y one-hot
(InfoGAN's codes enter G the same way). The discriminator's outputs are chosen with `heads.outputs`.
"""
from typing import Any, Sequence

import flax.linen as nn
import jax.numpy as jnp
import numpy as np

from gans.models.gan import ARCHITECTURES, heads
from gans.models.gan import dtype as gan_dtype


def _concat(x, cond):
  return x if cond is None else jnp.concatenate([x, cond.astype(x.dtype)], axis=-1)


class Generator(nn.Module):
  """z [B, z_dim] (and conditioning [B, c]) -> samples of `out_shape`; tanh output for images, linear
  for 2-D points."""
  out_shape: Sequence[int]
  hidden: Sequence[int] = (256, 256)
  tanh_output: bool = False
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, z, cond=None, train: bool = True):
    x = _concat(z.astype(self.dtype), cond)
    for h in self.hidden:
      x = nn.relu(nn.Dense(h, dtype=self.dtype)(x))
    x = nn.Dense(int(np.prod(self.out_shape)), dtype=self.dtype)(x).astype(jnp.float32)
    x = jnp.tanh(x) if self.tanh_output else x
    return x.reshape(z.shape[0], *self.out_shape)


class Discriminator(nn.Module):
  """samples [B, ...] (and conditioning [B, c]) -> logits [B], or a dict of heads (see `heads`)."""
  hidden: Sequence[int] = (256, 256)
  dtype: Any = jnp.float32
  spectral_norm: bool = False
  heads: dict | None = None  # keyword arguments of heads.outputs (num_classes, q_dim, ...)

  @nn.compact
  def __call__(self, x, cond=None, train: bool = True):
    x = _concat(x.reshape(x.shape[0], -1).astype(self.dtype), cond)
    for h in self.hidden:
      x = nn.leaky_relu(heads.dense(h, self.spectral_norm, train, self.dtype)(x), 0.2)
    return heads.outputs(x, train, **(self.heads or {}), spectral_norm=self.spectral_norm, dtype=self.dtype)


@ARCHITECTURES.register("mlp")
def build(model_config, data_shape: tuple[int, ...], d_heads: dict):
  """`model_config`: g_hidden, d_hidden, spectral_norm, dtype. Image data gets a tanh output."""
  dtype = gan_dtype(model_config)
  return (Generator(out_shape=data_shape, hidden=tuple(model_config.g_hidden), tanh_output=len(data_shape) > 1,
                    dtype=dtype),
          Discriminator(hidden=tuple(model_config.d_hidden), dtype=dtype,
                        spectral_norm=bool(model_config.get("spectral_norm", False)), heads=d_heads))
