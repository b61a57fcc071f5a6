"""Fully connected generator and discriminator (Goodfellow et al. 2014, sec. 5).

Used for the 2-D toy mixtures (PacGAN protocol, Lin et al. 2018) and the original GAN on MNIST.
"""
from typing import Any, Sequence

import flax.linen as nn
import jax.numpy as jnp
import numpy as np


class Generator(nn.Module):
  """z [B, z_dim] -> samples of `out_shape`; tanh output for images, linear for 2-D points."""
  out_shape: Sequence[int]
  hidden: Sequence[int] = (256, 256)
  tanh_output: bool = False
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, z, train: bool = True):
    x = z.astype(self.dtype)
    for h in self.hidden:
      x = nn.relu(nn.Dense(h, dtype=self.dtype)(x))
    x = nn.Dense(int(np.prod(self.out_shape)), dtype=self.dtype)(x).astype(jnp.float32)
    x = jnp.tanh(x) if self.tanh_output else x
    return x.reshape(z.shape[0], *self.out_shape)


class Discriminator(nn.Module):
  """samples [B, ...] -> logits [B]."""
  hidden: Sequence[int] = (256, 256)
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, x, train: bool = True):
    x = x.reshape(x.shape[0], -1).astype(self.dtype)
    for h in self.hidden:
      x = nn.leaky_relu(nn.Dense(h, dtype=self.dtype)(x), 0.2)
    return nn.Dense(1, dtype=self.dtype)(x)[:, 0].astype(jnp.float32)
