"""pix2pix's U-Net generator (Isola et al. 2017, sec. 3.2.1 and appendix 6.1.1), as the `unet_128` / `unet_256`
networks of junyanz/pytorch-CycleGAN-and-pix2pix (`UnetGenerator`, `num_downs` 7 / 8).

Encoder: `num_downs` 4x4 stride-2 convolutions (padding 1) of widths ngf, 2ngf, 4ngf, 8ngf, 8ngf, ..., each
after a LeakyReLU(0.2) except the first, each followed by the norm except the first and the innermost (so a
256 x 256 image reaches 1 x 1). Decoder: at every depth ReLU, a 4x4 stride-2 transposed convolution (padding 1)
back to the width of the layer above, the norm, then the skip connection concatenates the encoder features of
that size in front (Ronneberger et al. 2015); the last one maps to `output_nc` channels with a bias and tanh.
Convolutions followed by a norm have a bias only with instance norm (`norms.conv_bias`).

Noise: G has no z input; dropout(0.5) in the decoder is its only randomness, at training and test time
alike in the paper (sec. 3.1). As in the reference, the dropout sits on the num_downs - 5 decoder layers just
above the innermost one (decoder layers 2-4 of unet_256; the paper's appendix 6.1.1 lists layers 1-3), and is
off with `use_dropout=False` (the reference's `--no_dropout`). Dropout draws from the 'dropout' rng and is
active when `train`.
"""
from typing import Any

import flax.linen as nn
import jax.numpy as jnp

from gans.errors import UserError
from gans.models.translation import norms

NUM_DOWNS = {"unet_128": 7, "unet_256": 8}  # the reference's netG names


def encoder_widths(num_downs: int, ngf: int) -> list[int]:
  """Output channels of the encoder convolutions: ngf * 2^i, capped at 8 * ngf."""
  return [ngf * min(2 ** i, 8) for i in range(num_downs)]


class UnetGenerator(nn.Module):
  """Images [B, H, W, input_nc] (H, W divisible by 2^num_downs) -> [B, H, W, output_nc] in [-1, 1]."""
  num_downs: int = 8
  output_nc: int = 3
  ngf: int = 64
  norm: str = "batch"
  use_dropout: bool = True
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, x, cond=None, train: bool = True):
    norms.check_no_cond(cond, "U-Net")
    norms.check_norm(self.norm)
    n = self.num_downs
    if n < 5:
      raise UserError(f"the U-Net needs num_downs >= 5, got {n}")
    if x.ndim != 4 or x.shape[1] % 2 ** n or x.shape[2] % 2 ** n:
      raise UserError(f"a U-Net with {n} downsamplings takes [B, H, W, C] images with H and W divisible by "
                      f"{2 ** n}, got shape {x.shape}")
    widths = encoder_widths(n, self.ngf)
    bias = norms.conv_bias(self.norm)
    h = x.astype(self.dtype)
    skips = []
    for depth, width in enumerate(widths):
      if depth > 0:
        h = nn.leaky_relu(h, 0.2)
      h = norms.conv(width, 4, 2, 1, use_bias=bias, dtype=self.dtype, name=f"down_{depth}")(h)
      if 0 < depth < n - 1:
        h = norms.normalize(h, self.norm, train, self.dtype)
      skips.append(h)
    # The reference's in-place LeakyReLU also rectifies the skip features it concatenates; the decoder's
    # ReLU right after the concatenation makes that the same as concatenating them unrectified.
    for depth in range(n - 1, 0, -1):
      u = norms.conv_transpose(widths[depth - 1], 4, 2, 1, use_bias=bias, dtype=self.dtype,
                               name=f"up_{depth}")(nn.relu(h))
      u = norms.normalize(u, self.norm, train, self.dtype)
      if self.use_dropout and 4 <= depth <= n - 2:
        u = nn.Dropout(0.5, deterministic=not train)(u)
      h = jnp.concatenate([skips[depth - 1], u], axis=-1)
    out = norms.conv_transpose(self.output_nc, 4, 2, 1, dtype=self.dtype, name="up_0")(nn.relu(h))
    return jnp.tanh(out.astype(jnp.float32))
