"""Normalisation and padding shared by the translation networks, with the option names of
junyanz/pytorch-CycleGAN-and-pix2pix (`--norm batch | instance | none`).

- batch: BatchNorm with a learnt scale and offset and running statistics (`gans.models.layers.batch_norm`).
- instance: instance normalisation (Ulyanov et al. 2016) without learnt parameters or running statistics:
  every sample and channel is normalised by its own spatial mean and (biased) variance, in training and
  evaluation alike.
- none: identity.

The reference gives a convolution followed by a normalisation a bias only with instance norm (its offset is
removed by the normalisation in the batch case, and under `none` the reference's rule still says no bias);
`conv_bias` states that rule.
"""
from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp

from gans.errors import UserError
from gans.models import layers

NORMS = ("batch", "instance", "none")
EPS = 1e-5
weight_init = nn.initializers.normal(0.02)  # the reference's init_type 'normal', init_gain 0.02


def batch_norm_scale_init(key, shape, dtype=jnp.float32):
  """BatchNorm scales ~ N(1, 0.02), as the reference initialises them."""
  return 1.0 + 0.02 * jax.random.normal(key, shape, dtype)


def check_norm(norm: str) -> None:
  if norm not in NORMS:
    raise UserError(f"norm must be one of {', '.join(NORMS)}, got {norm!r}")


def conv_bias(norm: str) -> bool:
  """Whether a convolution followed by `norm` has a bias (the reference: only with instance norm)."""
  return norm == "instance"


def instance_norm(x: jax.Array, eps: float = EPS) -> jax.Array:
  """(x - mean) / sqrt(var + eps) over the spatial axes of each sample and channel (NHWC), in float32."""
  x32 = x.astype(jnp.float32)
  mean = jnp.mean(x32, axis=(1, 2), keepdims=True)
  var = jnp.mean(jnp.square(x32 - mean), axis=(1, 2), keepdims=True)
  return ((x32 - mean) * jax.lax.rsqrt(var + eps)).astype(x.dtype)


def normalize(x: jax.Array, norm: str, train: bool, dtype: Any) -> jax.Array:
  """Applies `norm` to x; call inside a compact method (batch norm adds a BatchNorm layer there)."""
  if norm == "batch":
    return layers.batch_norm(train, dtype, scale_init=batch_norm_scale_init)(x)
  if norm == "instance":
    return instance_norm(x)
  return x


def reflect_pad(x: jax.Array, pad: int) -> jax.Array:
  """Reflection padding of the spatial axes (the border pixel is not repeated: numpy's 'reflect')."""
  if pad >= min(x.shape[1], x.shape[2]):
    raise UserError(f"reflection padding {pad} needs feature maps larger than {pad}, got {x.shape[1:3]}")
  return jnp.pad(x, ((0, 0), (pad, pad), (pad, pad), (0, 0)), mode="reflect")


def conv(features: int, kernel: int, stride: int = 1, pad: int = 0, use_bias: bool = True,
         dtype: Any = jnp.float32, name: str | None = None) -> nn.Conv:
  """A k x k convolution with zero padding `pad` on every side and the reference's N(0, 0.02) weights."""
  return nn.Conv(features, (kernel, kernel), (stride, stride), padding=((pad, pad), (pad, pad)),
                 use_bias=use_bias, kernel_init=weight_init, dtype=dtype, name=name,
                 conv_general_dilated=layers.conv_general_dilated)


def conv_transpose(features: int, kernel: int, stride: int, pad: int, output_pad: int = 0,
                   use_bias: bool = True, dtype: Any = jnp.float32, name: str | None = None):
  """PyTorch's ConvTranspose2d(kernel, stride, padding=pad, output_padding) as an NHWC layer.

  Output size (n - 1) * stride - 2 * pad + kernel + output_pad. The equivalent input-dilated convolution
  pads (kernel - 1 - pad) before and (kernel - 1 - pad + output_pad) after; the kernel is the reference's
  spatially flipped, which changes nothing for learnt weights.
  """
  lo = kernel - 1 - pad
  return layers.ConvTranspose(features, (kernel, kernel), (stride, stride),
                              padding=((lo, lo + output_pad), (lo, lo + output_pad)), use_bias=use_bias,
                              kernel_init=weight_init, dtype=dtype, name=name)


def check_no_cond(cond, family: str) -> None:
  """Translation generators take only their input image (the call keeps the project's `cond` argument)."""
  if cond is not None:
    raise UserError(f"the {family} generator takes no conditioning besides its input image")
