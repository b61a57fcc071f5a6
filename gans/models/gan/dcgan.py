"""DCGAN generator and discriminator (Radford, Metz & Chintala 2016, ICLR).

Sec. 3 guidelines: strided convolutions instead of pooling, BatchNorm in G and D (not on G's output
nor D's input), ReLU in G with Tanh output, LeakyReLU(0.2) in D, no hidden fully connected layers
beyond the projection of z. Sec. 4: weights ~ N(0, 0.02).

Conditioning (CGAN, Mirza & Osindero 2014; InfoGAN codes): G gets [z, y]; D gets y as constant
feature maps concatenated to the image channels. D's outputs are chosen with `heads.outputs`; with
`spectral_norm` every conv and dense layer of D is spectrally normalised (Miyato et al. 2018).

Sizes: a k x k start map is doubled by stride-2 4x4 transposed convs until `image_size`
(64: 4 -> 8 -> 16 -> 32 -> 64 with 512-256-128-64 channels at width 64; 28: 7 -> 14 -> 28).
"""
from typing import Any

import flax.linen as nn
import jax.numpy as jnp

from gans.errors import UserError
from gans.models import layers
from gans.models.gan import ARCHITECTURES, heads
from gans.models.gan import dtype as gan_dtype

_init = nn.initializers.normal(0.02)  # Radford et al. 2016, sec. 4


def num_upsamplings(image_size: int) -> int:
  """Number of stride-2 stages from the start map (4x4 or 7x7) to `image_size`."""
  for start in (4, 7):
    n, size = 0, start
    while size < image_size:
      size, n = size * 2, n + 1
    if size == image_size and n > 0:
      return n
  raise UserError(f"DCGAN image_size must be 4 or 7 times a power of two (e.g. 28, 32, 64), got {image_size}")


class Generator(nn.Module):
  """z [B, z_dim] (and optional one-hot labels) -> images [B, S, S, C] in [-1, 1]."""
  image_size: int = 64
  channels: int = 3
  width: int = 64
  dtype: Any = jnp.float32
  virtual_batch: int = 0  # > 0: virtual batch norm with this reference batch size instead of BatchNorm

  def _norm(self, train: bool):
    if self.virtual_batch:
      return layers.VirtualBatchNorm(self.virtual_batch, dtype=self.dtype)
    return layers.batch_norm(train, self.dtype)

  @nn.compact
  def __call__(self, z, cond=None, train: bool = True):
    n = num_upsamplings(self.image_size)
    start = self.image_size >> n
    x = z.astype(self.dtype)
    if cond is not None:
      x = jnp.concatenate([x, cond.astype(self.dtype)], axis=-1)
    x = nn.Dense(start * start * self.width * 2 ** (n - 1), kernel_init=_init, use_bias=False,
                 dtype=self.dtype)(x)
    x = x.reshape(z.shape[0], start, start, -1)
    x = nn.relu(self._norm(train)(x))
    for i in range(n - 1):
      x = layers.ConvTranspose(self.width * 2 ** (n - 2 - i), (4, 4), (2, 2), padding="SAME",
                               use_bias=False, kernel_init=_init, dtype=self.dtype)(x)
      x = nn.relu(self._norm(train)(x))
    x = layers.ConvTranspose(self.channels, (4, 4), (2, 2), padding="SAME", kernel_init=_init,
                             dtype=self.dtype)(x)
    return jnp.tanh(x.astype(jnp.float32))


class Discriminator(nn.Module):
  """images [B, S, S, C] (and conditioning [B, c]) -> logits [B] (critic values with a Wasserstein
  loss), or a dict of heads (see `heads`)."""
  width: int = 64
  batch_norm: bool = True  # WGAN-GP's critic has none (Gulrajani et al. 2017, sec. 4)
  dtype: Any = jnp.float32
  spectral_norm: bool = False
  heads: dict | None = None  # keyword arguments of heads.outputs (num_classes, q_dim, ...)

  @nn.compact
  def __call__(self, x, cond=None, train: bool = True):
    n = num_upsamplings(x.shape[1])
    x = x.astype(self.dtype)
    if cond is not None:
      maps = jnp.broadcast_to(cond[:, None, None, :].astype(self.dtype), (*x.shape[:3], cond.shape[-1]))
      x = jnp.concatenate([x, maps], axis=-1)
    for i in range(n):
      x = heads.conv(self.width * 2 ** i, (4, 4), (2, 2), self.spectral_norm, train, self.dtype, padding="SAME",
                     use_bias=i == 0 or not self.batch_norm, kernel_init=_init)(x)
      if i > 0 and self.batch_norm:
        x = layers.batch_norm(train, self.dtype)(x)
      x = nn.leaky_relu(x, 0.2)
    h = x.reshape(x.shape[0], -1)
    return heads.outputs(h, train, **(self.heads or {}), spectral_norm=self.spectral_norm, kernel_init=_init,
                         dtype=self.dtype)


@ARCHITECTURES.register("dcgan")
def build(model_config, data_shape: tuple[int, ...], d_heads: dict):
  """`model_config`: g_width, d_width, d_batch_norm, spectral_norm (which drops D's BatchNorm),
  g_virtual_batch (G's virtual batch norm reference size, 0: BatchNorm), dtype."""
  if len(data_shape) != 3 or data_shape[0] != data_shape[1]:
    raise UserError(f"dcgan needs square images [S, S, C], got data of shape {data_shape}")
  sn = bool(model_config.get("spectral_norm", False))
  dtype = gan_dtype(model_config)
  return (Generator(image_size=data_shape[0], channels=data_shape[2], width=model_config.g_width, dtype=dtype,
                    virtual_batch=model_config.get("g_virtual_batch", 0)),
          Discriminator(width=model_config.d_width, batch_norm=model_config.get("d_batch_norm", True) and not sn,
                        dtype=dtype, spectral_norm=sn, heads=d_heads))
