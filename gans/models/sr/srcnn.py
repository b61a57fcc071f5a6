"""SRCNN (Dong et al. 2014), FSRCNN (Dong et al. 2016) and ESPCN (Shi et al. 2016): the small early
super-resolution networks, on one channel (Y) by default as in the papers.

Counter options follow the yjn870 PyTorch ports (`num_channels` = 1, `scale_factor`, and FSRCNN's `d`, `s`,
`m`); `scale_factor` has no default there and is 3 here (the papers' main setting); SRCNN is the 2014 paper's
9-1-5 network (that port uses 9-5-5). Every conv is zero-padded to keep the map size, as those ports do
(the papers train on unpadded patches).
"""
from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp

from gans.errors import UserError
from gans.models import layers, summary
from gans.models.sr.common import PReLU, conv, pixel_shuffle


class SRCNN(nn.Module):
  """Dong et al. 2014, sec. 3: patch extraction 9x9 (n1 = 64), non-linear mapping 1x1 (n2 = 32),
  reconstruction 5x5, ReLU after the first two. Input: the bicubic-upscaled image [B, H, W, C]; the
  output has its size."""
  channels: int = 1
  n1: int = 64
  n2: int = 32
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, x, train: bool = False):
    del train  # no BatchNorm
    x = nn.relu(conv(self.n1, 9, dtype=self.dtype)(x.astype(self.dtype)))
    x = nn.relu(conv(self.n2, 1, dtype=self.dtype)(x))
    return conv(self.channels, 5, dtype=self.dtype)(x)


class FSRCNN(nn.Module):
  """Dong et al. 2016, sec. 3.2, FSRCNN(d, s, m): feature extraction 5x5 (d), shrinking 1x1 (s), m mapping
  layers 3x3 (s), expanding 1x1 (d), each followed by a channel-wise PReLU; then a 9x9 deconvolution of
  stride `scale` (PyTorch's padding 4, output_padding scale - 1: out = in * scale).

  The deconvolution kernel is `layers.ConvTranspose`'s (not flipped), i.e. a PyTorch ConvTranspose2d
  weight [in, out, 9, 9] is kernel = weight.transpose(2, 3, 0, 1)[::-1, ::-1].
  """
  scale: int = 3
  channels: int = 1
  d: int = 56
  s: int = 12
  m: int = 4
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, x, train: bool = False):
    del train
    if self.scale < 1:
      raise UserError(f"FSRCNN scale must be >= 1, got {self.scale}")
    x = x.astype(self.dtype)
    widths = [(self.d, 5), (self.s, 1)] + [(self.s, 3)] * self.m + [(self.d, 1)]
    for width, k in widths:
      x = PReLU(width)(conv(width, k, dtype=self.dtype)(x))
    pad = (4, 4 + self.scale - 1)  # the input-dilated padding of PyTorch's padding=4, output_padding=scale-1
    return layers.ConvTranspose(self.channels, (9, 9), (self.scale, self.scale), padding=(pad, pad),
                                dtype=self.dtype)(x)


class ESPCN(nn.Module):
  """Shi et al. 2016, sec. 3.2: l = 3 layers, (f1, n1) = (5, 64), (f2, n2) = (3, 32), f3 = 3, tanh after
  the first two, the last producing C * r^2 maps that `pixel_shuffle` rearranges to [B, h*r, w*r, C]."""
  scale: int = 3
  channels: int = 1
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, x, train: bool = False):
    del train
    if self.scale < 1:
      raise UserError(f"ESPCN scale must be >= 1, got {self.scale}")
    x = jnp.tanh(conv(64, 5, dtype=self.dtype)(x.astype(self.dtype)))
    x = jnp.tanh(conv(32, 3, dtype=self.dtype)(x))
    return pixel_shuffle(conv(self.channels * self.scale ** 2, 3, dtype=self.dtype)(x), self.scale)


def _lr_input(image_size: int, scale: int, channels: int):
  """The low-resolution input of an `image_size` high-resolution image, as a shape."""
  if scale < 1 or image_size < scale:
    raise UserError(f"scale must be >= 1 and image_size >= scale, got scale {scale}, image_size {image_size}")
  return jax.ShapeDtypeStruct((1, image_size // scale, image_size // scale, channels), jnp.float32)


@summary.FAMILIES.register("srcnn")
def srcnn_counts(image_size, channels, num_classes, num_channels=1):
  """SRCNN 9-1-5 on `num_channels` channels (1: Y, as the paper; 3: RGB); `channels` is not used."""
  del channels, num_classes
  x = jax.ShapeDtypeStruct((1, image_size, image_size, num_channels), jnp.float32)
  return {"generator": summary.param_count(SRCNN(num_channels), x)}


@summary.FAMILIES.register("fsrcnn")
def fsrcnn_counts(image_size, channels, num_classes, scale_factor=3, num_channels=1, d=56, s=12, m=4):
  """FSRCNN(d, s, m) at x`scale_factor`; `channels` is not used."""
  del channels, num_classes
  model = FSRCNN(scale_factor, num_channels, d, s, m)
  return {"generator": summary.param_count(model, _lr_input(image_size, scale_factor, num_channels))}


@summary.FAMILIES.register("espcn")
def espcn_counts(image_size, channels, num_classes, scale_factor=3, num_channels=1):
  """ESPCN at x`scale_factor`; `channels` is not used."""
  del channels, num_classes
  model = ESPCN(scale_factor, num_channels)
  return {"generator": summary.param_count(model, _lr_input(image_size, scale_factor, num_channels))}
