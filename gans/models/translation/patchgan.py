"""PatchGAN discriminators (Isola et al. 2017, sec. 2.2 and appendix 6.1.2), as `NLayerDiscriminator` and
`PixelDiscriminator` of junyanz/pytorch-CycleGAN-and-pix2pix (`--netD basic | n_layers | pixel`).

`n_layers` (`basic` = 3): a 4x4 stride-2 convolution to ndf channels with a bias and LeakyReLU(0.2), then
n_layers - 1 more 4x4 stride-2 ones of width ndf * min(2^i, 8), one 4x4 stride-1 one of width
ndf * min(2^n_layers, 8), each followed by the norm and LeakyReLU(0.2), and a 4x4 stride-1 convolution to one
logit per patch with a bias; all padded by 1. Each output cell sees a 70 x 70 patch for n_layers 3 (34 for 2,
16 for 1); a 256 x 256 input gives 30 x 30 logits. `pixel` (the 1 x 1 PixelGAN): 1x1 convolutions to ndf
(bias) and 2 ndf channels, the norm, and one logit per pixel (the reference gives the last two a bias only
with instance norm, as every convolution followed by a norm). No sigmoid: the outputs are logits.

pix2pix's discriminator is conditional (sec. 2.1): pass the input image as `cond` and it is concatenated in
front of the image to judge, as the reference's cat((real_A, fake_B), 1).
"""
from typing import Any

import flax.linen as nn
import jax.numpy as jnp

from gans.errors import UserError
from gans.models.translation import norms

NET_D = ("basic", "n_layers", "pixel")  # the reference's netD names


def _with_cond(x, cond, dtype):
  x = x.astype(dtype)
  if cond is None:
    return x
  if cond.shape[:3] != x.shape[:3]:
    raise UserError(f"the discriminator's condition must be images of the same size, got {cond.shape} and "
                    f"{x.shape}")
  return jnp.concatenate([cond.astype(dtype), x], axis=-1)


def output_size(size: int, n_layers: int) -> int:
  """Logits per side for an input of `size` pixels: n_layers halvings (floor), then two 4x4 stride-1 layers."""
  for _ in range(n_layers):
    size = (size + 2 - 4) // 2 + 1
  return size - 2


class NLayerDiscriminator(nn.Module):
  """Images [B, H, W, C] (and conditioning images [B, H, W, C']) -> patch logits [B, H', W']."""
  n_layers: int = 3
  ndf: int = 64
  norm: str = "batch"
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, x, cond=None, train: bool = True):
    norms.check_norm(self.norm)
    if self.n_layers < 1:
      raise UserError(f"n_layers must be >= 1, got {self.n_layers}")
    if x.ndim != 4 or min(output_size(s, self.n_layers) for s in x.shape[1:3]) < 1:
      raise UserError(f"a PatchGAN with {self.n_layers} layers needs [B, H, W, C] images of at least "
                      f"{3 * 2 ** self.n_layers} pixels a side, got shape {x.shape}")
    bias = norms.conv_bias(self.norm)
    h = _with_cond(x, cond, self.dtype)
    h = nn.leaky_relu(norms.conv(self.ndf, 4, 2, 1, dtype=self.dtype)(h), 0.2)
    for i in range(1, self.n_layers + 1):
      stride = 2 if i < self.n_layers else 1
      h = norms.conv(self.ndf * min(2 ** i, 8), 4, stride, 1, use_bias=bias, dtype=self.dtype)(h)
      h = nn.leaky_relu(norms.normalize(h, self.norm, train, self.dtype), 0.2)
    h = norms.conv(1, 4, 1, 1, dtype=self.dtype)(h)
    return h[..., 0].astype(jnp.float32)


class PixelDiscriminator(nn.Module):
  """Images [B, H, W, C] (and conditioning images) -> one logit per pixel [B, H, W]."""
  ndf: int = 64
  norm: str = "batch"
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, x, cond=None, train: bool = True):
    norms.check_norm(self.norm)
    bias = norms.conv_bias(self.norm)
    h = _with_cond(x, cond, self.dtype)
    h = nn.leaky_relu(norms.conv(self.ndf, 1, dtype=self.dtype)(h), 0.2)
    h = norms.conv(2 * self.ndf, 1, use_bias=bias, dtype=self.dtype)(h)
    h = nn.leaky_relu(norms.normalize(h, self.norm, train, self.dtype), 0.2)
    h = norms.conv(1, 1, use_bias=bias, dtype=self.dtype)(h)
    return h[..., 0].astype(jnp.float32)


def create(netD: str = "basic", ndf: int = 64, n_layers_D: int = 3, norm: str = "batch",
           dtype: Any = jnp.float32) -> nn.Module:
  """The reference's define_D: `basic` (n_layers 3), `n_layers` (n_layers_D) or `pixel`."""
  if netD == "basic":
    return NLayerDiscriminator(3, ndf, norm, dtype)
  if netD == "n_layers":
    return NLayerDiscriminator(n_layers_D, ndf, norm, dtype)
  if netD == "pixel":
    return PixelDiscriminator(ndf, norm, dtype)
  raise UserError(f"unknown netD {netD!r}; known: {', '.join(NET_D)}")
