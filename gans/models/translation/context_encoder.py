"""Context encoder for centre inpainting (Pathak et al. 2016), as the authors' released network
(pathak22/context-encoder, train.lua), not the paper's AlexNet encoder with a channel-wise fully connected
bottleneck (sec. 3.1): a DCGAN-style encoder-decoder whose bottleneck is a 4x4 valid convolution to
`nBottleneck` = 4000 channels at 1 x 1 (the value of the README's training command and the released
inpaintCenter models; train.lua's own default is 100).

Generator, 128 x 128 x nc context (the centre filled, `fill_centre`) -> the 64 x 64 x nc centre:
  encoder: 4x4 stride-2 convolutions (padding 1) to nef, nef, 2nef, 4nef, 8nef channels (128 -> 4 pixels),
    each followed by BatchNorm except the first, and LeakyReLU(0.2); a 4x4 valid convolution to nBottleneck
    channels (4 -> 1), BatchNorm, LeakyReLU(0.2);
  decoder: a 4x4 valid transposed convolution to 8ngf channels (1 -> 4), then 4x4 stride-2 transposed
    convolutions (padding 1) to 4ngf, 2ngf, ngf and nc channels (4 -> 64), BatchNorm and ReLU after all but
    the last, tanh.
Discriminator, 64 x 64 x nc centre -> one logit: 4x4 stride-2 convolutions to ndf, 2ndf, 4ndf, 8ndf channels
(64 -> 4), BatchNorm on all but the first, LeakyReLU(0.2), and a 4x4 valid convolution to one logit (train.lua's
sigmoid is left to the loss). Its `conditionAdv` variant (D also sees the context) is not implemented.

Biases: train.lua creates every convolution with a bias but sets all of them to zero before each forward pass,
so they are always zero; they are left out. With nc 3, widths 64 and nBottleneck 4000 the generator has
71,124,544 parameters and the discriminator 2,765,568 (the Lua networks hold 5,987 and 961 more, those zeroed
biases). Weights ~ N(0, 0.02), BatchNorm scales ~ N(1, 0.02), as train.lua initialises them.
"""
from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp

from gans.errors import UserError
from gans.models import summary
from gans.models.translation import norms

IMAGE_SIZE = 128  # fineSize: the context; the centre is half of it
# Per-channel fill of the missing centre, train.lua's 2 * (117, 104, 123) / 255 - 1 (images in [-1, 1]).
FILL = (2 * 117 / 255 - 1, 2 * 104 / 255 - 1, 2 * 123 / 255 - 1)


def centre(images: jax.Array) -> jax.Array:
  """The central S/2 x S/2 region of images [B, S, S, C] (rows and columns S/4 .. 3S/4)."""
  q = images.shape[1] // 4
  return images[:, q:images.shape[1] - q, q:images.shape[2] - q]


def fill_centre(images: jax.Array, overlap: int = 0) -> jax.Array:
  """Images [B, S, S, 3] in [-1, 1] with their central S/2 x S/2 region, shrunk by `overlap` pixels on each
  side (train.lua's overlapPred; its README trains with 4), set to the mean colour `FILL`."""
  size = images.shape[1]
  lo, hi = size // 4 + overlap, size - size // 4 - overlap
  rows = jnp.arange(size)
  inside = ((rows >= lo) & (rows < hi))[:, None] & ((rows >= lo) & (rows < hi))[None, :]
  return jnp.where(inside[None, :, :, None], jnp.asarray(FILL, images.dtype), images)


class ContextEncoder(nn.Module):
  """Context [B, 128, 128, nc] -> predicted centre [B, 64, 64, nc] in [-1, 1]."""
  nc: int = 3
  nef: int = 64
  ngf: int = 64
  nBottleneck: int = 4000  # the reference's option name
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, x, cond=None, train: bool = True):
    norms.check_no_cond(cond, "context encoder")
    if x.ndim != 4 or x.shape[1:3] != (IMAGE_SIZE, IMAGE_SIZE):
      raise UserError(f"the context encoder takes [B, {IMAGE_SIZE}, {IMAGE_SIZE}, C] images, got shape {x.shape}")
    h = x.astype(self.dtype)
    for i, width in enumerate((self.nef, self.nef, 2 * self.nef, 4 * self.nef, 8 * self.nef)):
      h = norms.conv(width, 4, 2, 1, use_bias=False, dtype=self.dtype)(h)
      if i > 0:
        h = norms.normalize(h, "batch", train, self.dtype)
      h = nn.leaky_relu(h, 0.2)
    h = norms.conv(self.nBottleneck, 4, use_bias=False, dtype=self.dtype)(h)  # 4x4 valid: 4 -> 1
    h = nn.leaky_relu(norms.normalize(h, "batch", train, self.dtype), 0.2)
    h = norms.conv_transpose(8 * self.ngf, 4, 1, 0, use_bias=False, dtype=self.dtype)(h)  # 1 -> 4
    h = nn.relu(norms.normalize(h, "batch", train, self.dtype))
    for width in (4 * self.ngf, 2 * self.ngf, self.ngf):
      h = norms.conv_transpose(width, 4, 2, 1, use_bias=False, dtype=self.dtype)(h)
      h = nn.relu(norms.normalize(h, "batch", train, self.dtype))
    h = norms.conv_transpose(self.nc, 4, 2, 1, use_bias=False, dtype=self.dtype)(h)
    return jnp.tanh(h.astype(jnp.float32))


class ContextDiscriminator(nn.Module):
  """Centres [B, 64, 64, nc] -> logits [B]."""
  ndf: int = 64
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, x, cond=None, train: bool = True):
    if cond is not None:
      raise UserError("the context encoder's discriminator sees only the centre (conditionAdv is not implemented)")
    if x.ndim != 4 or x.shape[1:3] != (IMAGE_SIZE // 2, IMAGE_SIZE // 2):
      raise UserError(f"the context discriminator takes [B, {IMAGE_SIZE // 2}, {IMAGE_SIZE // 2}, C] centres, got "
                      f"shape {x.shape}")
    h = x.astype(self.dtype)
    for i, width in enumerate((self.ndf, 2 * self.ndf, 4 * self.ndf, 8 * self.ndf)):
      h = norms.conv(width, 4, 2, 1, use_bias=False, dtype=self.dtype)(h)
      if i > 0:
        h = norms.normalize(h, "batch", train, self.dtype)
      h = nn.leaky_relu(h, 0.2)
    h = norms.conv(1, 4, use_bias=False, dtype=self.dtype)(h)  # 4x4 valid: 4 -> 1
    return h[:, 0, 0, 0].astype(jnp.float32)


@summary.FAMILIES.register("context_encoder")
def counts(image_size: int, channels: int, num_classes: int, nBottleneck: int = 4000, nef: int = 64,
           ngf: int = 64, ndf: int = 64, nc: int | None = None) -> dict:
  """The released centre-inpainting context encoder: image_size must be 128 (fineSize); nc defaults to
  `channels` (train.lua: 3); num_classes is not used."""
  del num_classes
  if image_size != IMAGE_SIZE:
    raise UserError(f"the context encoder takes {IMAGE_SIZE} x {IMAGE_SIZE} images (its centre is "
                    f"{IMAGE_SIZE // 2} x {IMAGE_SIZE // 2}), got image_size {image_size}")
  nc = nc or channels
  g = ContextEncoder(nc, nef, ngf, nBottleneck)
  d = ContextDiscriminator(ndf)
  context = jax.ShapeDtypeStruct((1, IMAGE_SIZE, IMAGE_SIZE, nc), jnp.float32)
  centre_shape = jax.ShapeDtypeStruct((1, IMAGE_SIZE // 2, IMAGE_SIZE // 2, nc), jnp.float32)
  return {"generator": summary.param_count(g, context, train=False),
          "discriminator": summary.param_count(d, centre_shape, train=False)}
