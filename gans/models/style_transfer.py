"""Fast neural style transfer (Johnson et al. 2016): the feed-forward image transformation network as
pytorch/examples `fast_neural_style` builds it (instance norm in place of the paper's batch norm, Ulyanov et
al. 2016; nearest upsampling + conv in place of fractionally strided convs), and the Gram matrix of its
style loss (sec. 3.2).

The network maps [B, H, W, 3] to [B, H, W, 3] (H, W multiples of 4) in the input's value range (no output
activation, as the reference: it works on 0-255 images). 1,679,235 parameters.
"""
from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp

from gans.errors import UserError
from gans.models import summary
from gans.models.sr.common import upsample_nearest


class ReflectConv(nn.Module):
  """Reflection padding by kernel_size // 2 (PyTorch's ReflectionPad2d), then an unpadded conv; `upsample`
  first repeats pixels (nearest)."""
  features: int
  kernel_size: int
  stride: int = 1
  upsample: int = 1
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, x):
    if self.upsample > 1:
      x = upsample_nearest(x, self.upsample)
    p = self.kernel_size // 2
    x = jnp.pad(x, ((0, 0), (p, p), (p, p), (0, 0)), mode="reflect")
    return nn.Conv(self.features, (self.kernel_size,) * 2, (self.stride,) * 2, padding="VALID", dtype=self.dtype)(x)


def instance_norm(dtype):
  """PyTorch's InstanceNorm2d(affine=True): per sample and channel, eps 1e-5, two-pass variance."""
  return nn.InstanceNorm(epsilon=1e-5, dtype=dtype, use_fast_variance=False)


class ResidualBlock(nn.Module):
  """conv-IN-ReLU-conv-IN plus the input (Johnson et al. 2016, supplementary sec. 2, without the crop)."""
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, x):
    c = x.shape[-1]
    y = nn.relu(instance_norm(self.dtype)(ReflectConv(c, 3, dtype=self.dtype)(x)))
    return x + instance_norm(self.dtype)(ReflectConv(c, 3, dtype=self.dtype)(y))


class TransformerNet(nn.Module):
  """9x9 conv 32, 3x3 stride-2 convs 64 and 128, 5 residual blocks of 128, two x2 nearest upsamplings with
  3x3 convs 64 and 32, 9x9 conv to 3; instance norm and ReLU after every conv but the last."""
  channels: int = 3
  num_residual: int = 5
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, x, train: bool = False):
    del train  # instance norm uses no running statistics
    if x.shape[1] % 4 or x.shape[2] % 4:
      raise UserError(f"TransformerNet needs height and width divisible by 4, got {x.shape[1]}x{x.shape[2]}")
    x = x.astype(self.dtype)
    for features, k, stride in ((32, 9, 1), (64, 3, 2), (128, 3, 2)):
      x = nn.relu(instance_norm(self.dtype)(ReflectConv(features, k, stride, dtype=self.dtype)(x)))
    for _ in range(self.num_residual):
      x = ResidualBlock(self.dtype)(x)
    for features in (64, 32):
      x = nn.relu(instance_norm(self.dtype)(ReflectConv(features, 3, upsample=2, dtype=self.dtype)(x)))
    return ReflectConv(self.channels, 9, dtype=self.dtype)(x).astype(jnp.float32)


def gram_matrix(features: jax.Array) -> jax.Array:
  """[B, H, W, C] -> [B, C, C]: G[c, d] = sum_{h, w} F[h, w, c] F[h, w, d] / (C H W) (Johnson et al. 2016,
  eq. 3, normalised as pytorch/examples)."""
  b, h, w, c = features.shape
  f = features.reshape(b, h * w, c).astype(jnp.float32)
  return jnp.einsum("bnc,bnd->bcd", f, f) / (c * h * w)


@summary.FAMILIES.register("transformer_net")
def transformer_net_counts(image_size, channels, num_classes):
  """pytorch/examples' TransformerNet (it takes no options); `channels` is its input and output width."""
  del num_classes
  if image_size < 4:
    raise UserError(f"transformer_net needs image_size >= 4, got {image_size}")
  size = image_size // 4 * 4
  x = jax.ShapeDtypeStruct((1, size, size, channels), jnp.float32)
  return {"generator": summary.param_count(TransformerNet(channels), x)}
