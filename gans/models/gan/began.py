"""BEGAN generator and autoencoder discriminator (Berthelot, Schumm & Metz 2017).

Sec. 3.5 / Fig. 1: the encoder is 3x3 convolutions with ELUs, two per scale, subsampling by stride-2
convolutions, then a fully connected layer to the embedding h (no activation); the decoder (also the
generator) maps h (or z) with a fully connected layer to an s x s x n map, then two 3x3 convolutions
with ELUs per scale and nearest-neighbour upsampling, then a 3x3 convolution to the image channels.
For non-image data (the 2-D mixtures) both are MLPs with ELUs.

The discriminator returns the per-sample reconstruction loss L(v) = mean |v - D(v)| (eq. 1 with
eta = 1), which is what the BEGAN objective (`gans.losses.began`) is written in.
"""
from typing import Any, Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

from gans.errors import UserError
from gans.models.gan import ARCHITECTURES, dcgan
from gans.models.gan import dtype as gan_dtype


def _conv(n, dtype):
  return nn.Conv(n, (3, 3), padding="SAME", dtype=dtype)


class Decoder(nn.Module):
  """h or z [B, d] -> data of `out_shape` (images [S, S, C] or flat vectors)."""
  out_shape: Sequence[int]
  width: int = 64  # n in the paper
  hidden: Sequence[int] = (128, 128)  # MLP layers for non-image data
  tanh_output: bool = False
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, h, cond=None, train: bool = True):
    del cond, train
    x = h.astype(self.dtype)
    if len(self.out_shape) == 3:
      size, channels = self.out_shape[0], self.out_shape[2]
      n_up = dcgan.num_upsamplings(size)
      start = size >> n_up
      x = nn.Dense(start * start * self.width, dtype=self.dtype)(x).reshape(h.shape[0], start, start, self.width)
      for i in range(n_up + 1):
        x = nn.elu(_conv(self.width, self.dtype)(nn.elu(_conv(self.width, self.dtype)(x))))
        if i < n_up:
          b, s, _, c = x.shape
          x = jax.image.resize(x, (b, 2 * s, 2 * s, c), "nearest")
      x = _conv(channels, self.dtype)(x)
    else:
      for width in self.hidden:
        x = nn.elu(nn.Dense(width, dtype=self.dtype)(x))
      x = nn.Dense(int(np.prod(self.out_shape)), dtype=self.dtype)(x)
    x = x.astype(jnp.float32)
    x = jnp.tanh(x) if self.tanh_output else x
    return x.reshape(h.shape[0], *self.out_shape)


class Encoder(nn.Module):
  """data [B, ...] -> embedding h [B, h_dim]."""
  h_dim: int = 64
  width: int = 64
  hidden: Sequence[int] = (128, 128)
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, x):
    x = x.astype(self.dtype)
    if x.ndim == 4:
      n_down = dcgan.num_upsamplings(x.shape[1])
      x = nn.elu(_conv(self.width, self.dtype)(x))
      for i in range(n_down + 1):
        c = self.width * (i + 1)
        x = nn.elu(_conv(c, self.dtype)(nn.elu(_conv(c, self.dtype)(x))))
        if i < n_down:  # subsampling by a stride-2 convolution (sec. 3.5)
          x = nn.elu(nn.Conv(self.width * (i + 2), (3, 3), (2, 2), padding="SAME", dtype=self.dtype)(x))
    else:
      for width in self.hidden:
        x = nn.elu(nn.Dense(width, dtype=self.dtype)(x))
    return nn.Dense(self.h_dim, dtype=self.dtype)(x.reshape(x.shape[0], -1))


class Generator(nn.Module):
  """z [B, z_dim] -> samples: the decoder architecture (sec. 3.5), tanh output for images."""
  out_shape: Sequence[int]
  width: int = 64
  hidden: Sequence[int] = (128, 128)
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, z, cond=None, train: bool = True):
    return Decoder(self.out_shape, self.width, self.hidden, len(self.out_shape) == 3, self.dtype)(z)


class Discriminator(nn.Module):
  """data [B, ...] -> reconstruction loss L(v) = mean |v - Dec(Enc(v))| per sample [B]."""
  h_dim: int = 64
  width: int = 64
  hidden: Sequence[int] = (128, 128)
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, x, cond=None, train: bool = True):
    del cond, train
    h = Encoder(self.h_dim, self.width, self.hidden, self.dtype)(x)
    recon = Decoder(x.shape[1:], self.width, self.hidden, False, self.dtype)(h)
    err = jnp.abs(x.astype(jnp.float32) - recon)
    return jnp.mean(err.reshape(x.shape[0], -1), axis=1)


@ARCHITECTURES.register("began")
def build(model_config, data_shape: tuple[int, ...], d_heads: dict):
  """`model_config`: g_width, d_width, g_hidden, d_hidden, h_dim, dtype. The discriminator is an
  autoencoder: it has no extra heads."""
  if d_heads:
    raise UserError(f"began's autoencoder discriminator has no extra heads; got {sorted(d_heads)}")
  if len(data_shape) == 3 and data_shape[0] != data_shape[1]:
    raise UserError(f"began needs square images [S, S, C] or flat data, got data of shape {data_shape}")
  dtype = gan_dtype(model_config)
  return (Generator(out_shape=data_shape, width=model_config.g_width, hidden=tuple(model_config.g_hidden),
                    dtype=dtype),
          Discriminator(h_dim=model_config.get("h_dim", 64), width=model_config.d_width,
                        hidden=tuple(model_config.d_hidden), dtype=dtype))
