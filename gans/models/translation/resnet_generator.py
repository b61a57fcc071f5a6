"""CycleGAN's ResNet generator (Zhu et al. 2017, appendix 7.2; after Johnson et al. 2016), as `ResnetGenerator`
of junyanz/pytorch-CycleGAN-and-pix2pix (`--netG resnet_6blocks | resnet_9blocks`).

c7s1-ngf (reflection padding 3, 7x7 convolution), d2ngf, d4ngf (3x3 stride-2 convolutions, zero padding 1),
`n_blocks` residual blocks R4ngf (reflection padding 1, 3x3 convolution, norm, ReLU, [dropout 0.5],
reflection padding 1, 3x3 convolution, norm, plus the block's input), u2ngf, ungf (3x3 stride-2 transposed
convolutions, padding 1, output_padding 1, so sizes double exactly), c7s1-output_nc with a bias, tanh. Every
other convolution is followed by the norm (and ReLU) and has a bias only with instance norm (`norms.conv_bias`).
The paper uses 6 blocks for 128 x 128 images and 9 for 256 x 256 and larger; CycleGAN uses instance norm and
no dropout (the reference's cycle_gan model sets `--no_dropout`).
"""
from typing import Any

import flax.linen as nn
import jax.numpy as jnp

from gans.errors import UserError
from gans.models.translation import norms

N_BLOCKS = {"resnet_6blocks": 6, "resnet_9blocks": 9}  # the reference's netG names


class ResnetBlock(nn.Module):
  """x + (pad, conv3x3, norm, ReLU, [dropout], pad, conv3x3, norm)(x), channels kept."""
  norm: str = "instance"
  use_dropout: bool = False
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, x, train: bool = True):
    bias = norms.conv_bias(self.norm)
    width = x.shape[-1]
    h = norms.conv(width, 3, use_bias=bias, dtype=self.dtype)(norms.reflect_pad(x, 1))
    h = nn.relu(norms.normalize(h, self.norm, train, self.dtype))
    if self.use_dropout:
      h = nn.Dropout(0.5, deterministic=not train)(h)
    h = norms.conv(width, 3, use_bias=bias, dtype=self.dtype)(norms.reflect_pad(h, 1))
    return x + norms.normalize(h, self.norm, train, self.dtype)


class ResnetGenerator(nn.Module):
  """Images [B, H, W, input_nc] (H, W divisible by 4, at least 8) -> [B, H, W, output_nc] in [-1, 1]."""
  n_blocks: int = 9
  output_nc: int = 3
  ngf: int = 64
  norm: str = "instance"
  use_dropout: bool = False
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, x, cond=None, train: bool = True):
    norms.check_no_cond(cond, "ResNet")
    norms.check_norm(self.norm)
    if self.n_blocks < 0:
      raise UserError(f"n_blocks must be >= 0, got {self.n_blocks}")
    if x.ndim != 4 or x.shape[1] % 4 or x.shape[2] % 4 or min(x.shape[1:3]) < 8:
      raise UserError(f"the ResNet generator takes [B, H, W, C] images with H and W divisible by 4 and at "
                      f"least 8, got shape {x.shape}")
    bias = norms.conv_bias(self.norm)
    h = norms.conv(self.ngf, 7, use_bias=bias, dtype=self.dtype)(norms.reflect_pad(x.astype(self.dtype), 3))
    h = nn.relu(norms.normalize(h, self.norm, train, self.dtype))
    for width in (2 * self.ngf, 4 * self.ngf):
      h = norms.conv(width, 3, 2, 1, use_bias=bias, dtype=self.dtype)(h)
      h = nn.relu(norms.normalize(h, self.norm, train, self.dtype))
    for _ in range(self.n_blocks):
      h = ResnetBlock(self.norm, self.use_dropout, self.dtype)(h, train)
    for width in (2 * self.ngf, self.ngf):
      h = norms.conv_transpose(width, 3, 2, 1, output_pad=1, use_bias=bias, dtype=self.dtype)(h)
      h = nn.relu(norms.normalize(h, self.norm, train, self.dtype))
    h = norms.conv(self.output_nc, 7, dtype=self.dtype)(norms.reflect_pad(h, 3))
    return jnp.tanh(h.astype(jnp.float32))
