"""Layers shared by the super-resolution families: sub-pixel shuffles, PReLU, adaptive average pooling."""
import flax.linen as nn
import jax
import jax.numpy as jnp

from gans.errors import UserError


def pixel_shuffle(x: jax.Array, r: int) -> jax.Array:
  """[B, H, W, C*r*r] -> [B, H*r, W*r, C], the sub-pixel convolution's periodic shuffle (Shi et al. 2016,
  sec. 2.2) with PyTorch's channel order: out[h*r + i, w*r + j, c] = in[h, w, c*r*r + i*r + j]."""
  b, h, w, c = x.shape
  if c % (r * r):
    raise UserError(f"pixel_shuffle by {r} needs channels divisible by {r * r}, got {c}")
  x = x.reshape(b, h, w, c // (r * r), r, r)
  return x.transpose(0, 1, 4, 2, 5, 3).reshape(b, h * r, w * r, c // (r * r))


def pixel_unshuffle(x: jax.Array, r: int) -> jax.Array:
  """The inverse of `pixel_shuffle`: [B, H*r, W*r, C] -> [B, H, W, C*r*r]."""
  b, hr, wr, c = x.shape
  if hr % r or wr % r:
    raise UserError(f"pixel_unshuffle by {r} needs height and width divisible by {r}, got {hr}x{wr}")
  x = x.reshape(b, hr // r, r, wr // r, r, c)
  return x.transpose(0, 1, 3, 5, 2, 4).reshape(b, hr // r, wr // r, c * r * r)


def upsample_nearest(x: jax.Array, r: int) -> jax.Array:
  """Nearest-neighbour upsampling by an integer factor (PyTorch's `interpolate(mode='nearest')`)."""
  return jnp.repeat(jnp.repeat(x, r, axis=1), r, axis=2)


def conv(features: int, kernel_size: int, stride: int = 1, dtype=jnp.float32, name: str | None = None,
         **kwargs) -> nn.Conv:
  """A square conv zero-padded by kernel_size // 2 on every side, as PyTorch's `padding=k // 2`."""
  p = kernel_size // 2
  return nn.Conv(features, (kernel_size, kernel_size), (stride, stride), padding=((p, p), (p, p)), dtype=dtype,
                 name=name, **kwargs)


class PReLU(nn.Module):
  """PyTorch's PReLU: one learned negative slope (`num_parameters=1`) or one per channel, initialised to 0.25."""
  num_parameters: int = 1

  @nn.compact
  def __call__(self, x):
    slope = self.param("negative_slope", nn.initializers.constant(0.25), (self.num_parameters,))
    return jnp.where(x >= 0, x, slope.astype(x.dtype) * x)


def adaptive_avg_pool(x: jax.Array, size: int) -> jax.Array:
  """PyTorch's AdaptiveAvgPool2d((size, size)) on NHWC: output cell i averages the input rows
  floor(i*H/size) .. ceil((i+1)*H/size) - 1 (columns likewise)."""
  h, w = x.shape[1:3]

  def bounds(n):
    return [(i * n // size, -(-(i + 1) * n // size)) for i in range(size)]

  if (h, w) == (size, size):
    return x
  rows = [jnp.mean(x[:, a:b], axis=1) for a, b in bounds(h)]  # size x [B, W, C]
  x = jnp.stack(rows, axis=1)
  cols = [jnp.mean(x[:, :, a:b], axis=2) for a, b in bounds(w)]
  return jnp.stack(cols, axis=2)
