"""SRResNet and the SRGAN discriminator (Ledig et al. 2017, fig. 4), as counted in sgrvinod's PyTorch
tutorial (`models.py`), whose option names the counters take: `large_kernel_size`, `small_kernel_size`,
`n_channels`, `n_blocks`, `scaling_factor` (generator) and the discriminator's `kernel_size`, `n_channels`,
`n_blocks`, `fc_size`.

PReLU has one slope per layer (PyTorch's default), BatchNorm is PyTorch's (`layers.batch_norm`). The
discriminator averages its last map to 6x6 (PyTorch's AdaptiveAvgPool2d; the identity at 96 px) before the
dense layer; the dense kernel sees the map flattened in NHWC order (a PyTorch weight needs its columns
permuted from (C, 6, 6) to (6, 6, C) order).
"""
import math
from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp

from gans.errors import UserError
from gans.models import layers, summary
from gans.models.sr.common import PReLU, adaptive_avg_pool, conv, pixel_shuffle


class ResidualBlock(nn.Module):
  """conv-BN-PReLU-conv-BN plus the input (Ledig et al. 2017, sec. 2.2)."""
  kernel_size: int = 3
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, x, train: bool):
    c = x.shape[-1]
    y = PReLU()(layers.batch_norm(train, self.dtype)(conv(c, self.kernel_size, dtype=self.dtype)(x)))
    y = layers.batch_norm(train, self.dtype)(conv(c, self.kernel_size, dtype=self.dtype)(y))
    return x + y


class SRResNet(nn.Module):
  """[B, h, w, 3] -> [B, h*s, w*s, 3] in [-1, 1] (tanh): 9x9 conv + PReLU, `n_blocks` residual blocks,
  conv + BN and a skip over the blocks, log2(s) sub-pixel stages (conv to 4x channels, pixel shuffle x2,
  PReLU), 9x9 conv."""
  scale: int = 4
  n_blocks: int = 16
  n_channels: int = 64
  large_kernel_size: int = 9
  small_kernel_size: int = 3
  channels: int = 3
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, x, train: bool = True):
    if self.scale not in (2, 4, 8):
      raise UserError(f"SRResNet scale must be 2, 4 or 8, got {self.scale}")
    x = PReLU()(conv(self.n_channels, self.large_kernel_size, dtype=self.dtype)(x.astype(self.dtype)))
    y = x
    for _ in range(self.n_blocks):
      y = ResidualBlock(self.small_kernel_size, self.dtype)(y, train)
    y = layers.batch_norm(train, self.dtype)(conv(self.n_channels, self.small_kernel_size, dtype=self.dtype)(y))
    x = x + y
    for _ in range(int(math.log2(self.scale))):
      x = conv(self.n_channels * 4, self.small_kernel_size, dtype=self.dtype)(x)
      x = PReLU()(pixel_shuffle(x, 2))
    x = conv(self.channels, self.large_kernel_size, dtype=self.dtype)(x)
    return jnp.tanh(x.astype(jnp.float32))


class Discriminator(nn.Module):
  """SRGAN's D (Ledig et al. 2017, fig. 4): `n_blocks` 3x3 convs, LeakyReLU 0.2, BatchNorm after all but the
  first; odd blocks stride 2, even ones double the width from `n_channels` (64, 64, 128, ..., 512); adaptive
  average pool to 6x6, dense `fc_size`, LeakyReLU 0.2, dense 1. Returns logits [B]."""
  n_blocks: int = 8
  n_channels: int = 64
  kernel_size: int = 3
  fc_size: int = 1024
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, x, train: bool = True):
    x = x.astype(self.dtype)
    width = x.shape[-1]
    for i in range(self.n_blocks):
      if i % 2 == 0:
        width = self.n_channels if i == 0 else width * 2
      x = conv(width, self.kernel_size, 1 if i % 2 == 0 else 2, dtype=self.dtype)(x)
      if i > 0:
        x = layers.batch_norm(train, self.dtype)(x)
      x = nn.leaky_relu(x, 0.2)
    x = adaptive_avg_pool(x, 6).reshape(x.shape[0], -1)
    x = nn.leaky_relu(nn.Dense(self.fc_size, dtype=self.dtype)(x), 0.2)
    return nn.Dense(1, dtype=self.dtype)(x)[:, 0].astype(jnp.float32)


@summary.FAMILIES.register("srresnet")
def srresnet_counts(image_size, channels, num_classes, large_kernel_size=9, small_kernel_size=3, n_channels=64,
                    n_blocks=16, scaling_factor=4):
  """SRResNet (the SRGAN generator) for `image_size` high-resolution images of `channels` channels."""
  del num_classes
  if scaling_factor not in (2, 4, 8) or image_size < scaling_factor:
    raise UserError(f"srresnet: scaling_factor must be 2, 4 or 8 and at most image_size, got {scaling_factor}")
  model = SRResNet(scaling_factor, n_blocks, n_channels, large_kernel_size, small_kernel_size, channels)
  lr = image_size // scaling_factor
  x = jax.ShapeDtypeStruct((1, lr, lr, channels), jnp.float32)
  return {"generator": summary.param_count(model, x, train=False)}


@summary.FAMILIES.register("srgan_discriminator")
def srgan_discriminator_counts(image_size, channels, num_classes, kernel_size=3, n_channels=64, n_blocks=8,
                               fc_size=1024):
  """The SRGAN discriminator on `image_size` images (96 in the paper)."""
  del num_classes
  model = Discriminator(n_blocks, n_channels, kernel_size, fc_size)
  x = jax.ShapeDtypeStruct((1, image_size, image_size, channels), jnp.float32)
  return {"discriminator": summary.param_count(model, x, train=False)}
