"""Image-to-image translation networks, one file per family: the U-Net generator (`unet`), PatchGAN
discriminators (`patchgan`), CycleGAN's ResNet generator (`resnet_generator`) and the context encoder
(`context_encoder`); `norms` holds their shared normalisation and padding.

`generator` and `discriminator` choose them by the option names of junyanz/pytorch-CycleGAN-and-pix2pix
(`netG`, `netD`, `n_layers_D`, `ngf`, `ndf`, `norm`, `no_dropout`); the `pix2pix` and `cyclegan` counters for
`launch.summary` take the same options with that repository's defaults for each model. Generators are called
`G.apply(variables, x, train=...)` on source images x [B, H, W, C] and return images in [-1, 1] of the same
size; discriminators `D.apply(variables, y, cond=x, train=...)` return logits per patch [B, H', W'].
"""
from typing import Any

import jax
import jax.numpy as jnp

from gans.errors import UserError
from gans.models import summary
from gans.models.translation import patchgan, resnet_generator, unet

NET_G = (*resnet_generator.N_BLOCKS, *unet.NUM_DOWNS)


def generator(netG: str, output_nc: int = 3, ngf: int = 64, norm: str = "batch", use_dropout: bool = False,
              dtype: Any = jnp.float32):
  """The reference's define_G: `unet_128` / `unet_256` (7 / 8 downsamplings) or `resnet_6blocks` /
  `resnet_9blocks`; the input channels come from the images it is called on."""
  if netG in unet.NUM_DOWNS:
    return unet.UnetGenerator(unet.NUM_DOWNS[netG], output_nc, ngf, norm, use_dropout, dtype)
  if netG in resnet_generator.N_BLOCKS:
    return resnet_generator.ResnetGenerator(resnet_generator.N_BLOCKS[netG], output_nc, ngf, norm, use_dropout,
                                            dtype)
  raise UserError(f"unknown netG {netG!r}; known: {', '.join(NET_G)}")


discriminator = patchgan.create


def _counts(image_size: int, netG: str, netD: str, n_layers_D: int, ngf: int, ndf: int, norm: str,
            input_nc: int, output_nc: int, no_dropout: bool, conditional_d: bool) -> dict:
  """Parameters of one generator (input_nc -> output_nc) and one discriminator (of output_nc images, with the
  input_nc source images as condition when `conditional_d`), from shapes at image_size x image_size."""
  g = generator(netG, output_nc, ngf, norm, not no_dropout)
  d = discriminator(netD, ndf, n_layers_D, norm)
  x = jax.ShapeDtypeStruct((1, image_size, image_size, input_nc), jnp.float32)
  y = jax.ShapeDtypeStruct((1, image_size, image_size, output_nc), jnp.float32)
  d_inputs = (y, x) if conditional_d else (y,)
  return {"generator": summary.param_count(g, x, train=False),
          "discriminator": summary.param_count(d, *d_inputs, train=False)}


@summary.FAMILIES.register("pix2pix")
def pix2pix_counts(image_size: int, channels: int, num_classes: int, netG: str = "unet_256", netD: str = "basic",
                   n_layers_D: int = 3, ngf: int = 64, ndf: int = 64, norm: str = "batch",
                   input_nc: int | None = None, output_nc: int | None = None, no_dropout: bool = False) -> dict:
  """pix2pix (the reference's pix2pix model defaults): G `netG`, D on input_nc + output_nc channels.
  input_nc and output_nc default to `channels` (the reference's default is 3); num_classes is not used."""
  del num_classes
  return _counts(image_size, netG, netD, n_layers_D, ngf, ndf, norm, input_nc or channels, output_nc or channels,
                 no_dropout, conditional_d=True)


@summary.FAMILIES.register("cyclegan")
def cyclegan_counts(image_size: int, channels: int, num_classes: int, netG: str = "resnet_9blocks",
                    netD: str = "basic", n_layers_D: int = 3, ngf: int = 64, ndf: int = 64, norm: str = "instance",
                    input_nc: int | None = None, output_nc: int | None = None, no_dropout: bool = True) -> dict:
  """CycleGAN (the reference's cycle_gan model defaults): G_A input_nc -> output_nc and D_A on output_nc
  channels; the model has a second pair G_B, D_B of the same sizes with input_nc and output_nc swapped."""
  del num_classes
  return _counts(image_size, netG, netD, n_layers_D, ngf, ndf, norm, input_nc or channels, output_nc or channels,
                 no_dropout, conditional_d=False)
