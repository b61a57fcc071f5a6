"""ESRGAN's generator, RRDBNet (Wang et al. 2018, sec. 3.1), as BasicSR's `rrdbnet_arch.py`, whose option
names the counter takes: `num_in_ch`, `num_out_ch`, `scale`, `num_feat`, `num_block`, `num_grow_ch`.

No BatchNorm; residual-in-residual dense blocks with residual scaling 0.2 (sec. 3.1); two nearest x2
upsamplings, each followed by a conv and LeakyReLU 0.2. The trunk always upsamples x4: for scale 2 (or 1)
the input is first pixel-unshuffled by 2 (or 4), as BasicSR does.
"""
from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp

from gans.errors import UserError
from gans.models import summary
from gans.models.sr.common import conv, pixel_unshuffle, upsample_nearest

RESIDUAL_SCALE = 0.2


class ResidualDenseBlock(nn.Module):
  """Five 3x3 convs, each seeing the block input and every earlier output (dense connections); the first
  four add `num_grow_ch` channels each (LeakyReLU 0.2), the fifth maps back to the input width; the result
  is scaled by 0.2 and added to the input."""
  num_grow_ch: int = 32
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, x):
    features = [x]
    for _ in range(4):
      y = conv(self.num_grow_ch, 3, dtype=self.dtype)(jnp.concatenate(features, axis=-1))
      features.append(nn.leaky_relu(y, 0.2))
    y = conv(x.shape[-1], 3, dtype=self.dtype)(jnp.concatenate(features, axis=-1))
    return x + RESIDUAL_SCALE * y


class RRDB(nn.Module):
  """Three residual dense blocks in sequence, the whole scaled by 0.2 and added to the input."""
  num_grow_ch: int = 32
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, x):
    y = x
    for _ in range(3):
      y = ResidualDenseBlock(self.num_grow_ch, self.dtype)(y)
    return x + RESIDUAL_SCALE * y


class RRDBNet(nn.Module):
  """[B, h, w, num_in_ch] -> [B, h*scale, w*scale, num_out_ch], scale in {1, 2, 4}."""
  num_out_ch: int = 3
  scale: int = 4
  num_feat: int = 64
  num_block: int = 23
  num_grow_ch: int = 32
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, x, train: bool = False):
    del train  # no BatchNorm
    if self.scale not in (1, 2, 4):
      raise UserError(f"RRDBNet scale must be 1, 2 or 4, got {self.scale}")
    x = x.astype(self.dtype)
    if self.scale < 4:
      x = pixel_unshuffle(x, 4 // self.scale)
    feat = conv(self.num_feat, 3, dtype=self.dtype, name="conv_first")(x)
    body = feat
    for _ in range(self.num_block):
      body = RRDB(self.num_grow_ch, self.dtype)(body)
    feat = feat + conv(self.num_feat, 3, dtype=self.dtype, name="conv_body")(body)
    for i in (1, 2):
      feat = nn.leaky_relu(conv(self.num_feat, 3, dtype=self.dtype, name=f"conv_up{i}")(upsample_nearest(feat, 2)),
                           0.2)
    feat = nn.leaky_relu(conv(self.num_feat, 3, dtype=self.dtype, name="conv_hr")(feat), 0.2)
    return conv(self.num_out_ch, 3, dtype=self.dtype, name="conv_last")(feat)


@summary.FAMILIES.register("rrdbnet")
def rrdbnet_counts(image_size, channels, num_classes, num_in_ch=None, num_out_ch=None, scale=4, num_feat=64,
                   num_block=23, num_grow_ch=32):
  """RRDBNet for `image_size` high-resolution images; `num_in_ch` / `num_out_ch` (required in BasicSR) default
  to `channels`."""
  del num_classes
  num_in_ch = channels if num_in_ch is None else num_in_ch
  num_out_ch = channels if num_out_ch is None else num_out_ch
  if scale not in (1, 2, 4) or image_size < 4:
    raise UserError(f"rrdbnet: scale must be 1, 2 or 4 and image_size >= 4, got scale {scale}, "
                    f"image_size {image_size}")
  lr = image_size // 4 * 4 // scale
  x = jax.ShapeDtypeStruct((1, lr, lr, num_in_ch), jnp.float32)
  return {"generator": summary.param_count(RRDBNet(num_out_ch, scale, num_feat, num_block, num_grow_ch), x)}
