"""LAPGAN (Denton, Chintala, Szlam & Fergus 2015, "Deep Generative Image Models using a Laplacian Pyramid of
Adversarial Networks"): a Laplacian pyramid of conditional GANs, sampled coarse to fine.

Pyramid (sec. 2): d(.) halves an image (2x2 average: blur and decimate), u(.) doubles it (bilinear
expansion). With I_0 = I and I_{k+1} = d(I_k), the band-pass coefficients are h_k = I_k - u(I_{k+1}) and the
last level keeps the low-pass image I_K; `reconstruct` inverts exactly: I_k = u(I_{k+1}) + h_k.

Networks (sec. 4, CIFAR-10; layer sizes as the authors' released CIFAR code, facebook/eyescream):
- Coarsest scale (8x8): G_0 and D_0 are fully connected with two hidden ReLU layers, 1200 units in G_0,
  600 with dropout in D_0; z_0 is 100-d, uniform in [-1, 1]. G_0 outputs the 8x8 image (linear).
- Finer scales: G_k maps [noise plane z_k, u(I_{k+1})] (noise as a 4th "colour plane") through 7x7 conv
  (64) - ReLU - 7x7 conv (64) - ReLU - 5x5 conv (C), 'same' padding, to the residual h_k. D_k adds the coarse
  image to the residual it is given (h_k + u(I_{k+1}) = I_k, sec. 3) then 5x5 conv (64) - ReLU - 5x5 conv
  (64, stride 2) - ReLU - dropout - linear (1), unpadded.
- Class conditioning (sec. 4): the one-hot label goes through a linear layer + ReLU to one n x n plane
  concatenated to the input maps (G_k, D_k); G_0 and D_0 take it concatenated to their input vectors.
The paper's CIFAR-10 pyramid is 8 -> 14 -> 28 on 28x28 crops; here the scales are powers of two from 8 (CIFAR's
32x32: 8 -> 16 -> 32, as the released code's 16 -> 32 level). Outputs are logits (the sigmoid is in the loss).

`sample(g0_apply, level_applies, key, batch)` draws an image coarse to fine from per-level apply functions.
"""
from typing import Callable, Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp

from gans.errors import UserError
from gans.models import summary


def downsample(images: jax.Array) -> jax.Array:
  """d(.): 2x2 average pooling of NHWC images (blur and decimate)."""
  b, h, w, c = images.shape
  if h % 2 or w % 2:
    raise UserError(f"lapgan: cannot halve an image of size {h}x{w}")
  return images.reshape(b, h // 2, 2, w // 2, 2, c).mean(axis=(2, 4))


def upsample(images: jax.Array) -> jax.Array:
  """u(.): bilinear 2x expansion of NHWC images."""
  b, h, w, c = images.shape
  return jax.image.resize(images, (b, 2 * h, 2 * w, c), "linear")


def laplacian_pyramid(images: jax.Array, levels: int) -> list[jax.Array]:
  """[h_0, ..., h_{levels-2}, I_{levels-1}]: band-pass residuals from fine to coarse, then the low-pass image."""
  if levels < 1:
    raise UserError(f"lapgan: a pyramid needs at least 1 level, got {levels}")
  pyramid, current = [], images
  for _ in range(levels - 1):
    coarse = downsample(current)
    pyramid.append(current - upsample(coarse))
    current = coarse
  return pyramid + [current]


def reconstruct(pyramid: Sequence[jax.Array]) -> jax.Array:
  """Inverse of `laplacian_pyramid`: I_k = u(I_{k+1}) + h_k from the coarsest level up."""
  image = pyramid[-1]
  for residual in reversed(pyramid[:-1]):
    image = upsample(image) + residual
  return image


def _label_plane(labels, size: int):
  """One-hot labels -> one size x size map (linear + ReLU), the conditional models' class input."""
  plane = nn.relu(nn.Dense(size * size, name="label_plane")(labels.astype(jnp.float32)))
  return plane.reshape(labels.shape[0], size, size, 1)


class CoarseGenerator(nn.Module):
  """G_0: z [B, 100] (and one-hot labels) -> the coarsest image [B, s, s, C] (fully connected)."""
  size: int = 8
  channels: int = 3
  hidden: int = 1200

  @nn.compact
  def __call__(self, z, cond=None, train: bool = True):
    x = z if cond is None else jnp.concatenate([z, cond], axis=-1)
    x = nn.relu(nn.Dense(self.hidden)(x.astype(jnp.float32)))
    x = nn.relu(nn.Dense(self.hidden)(x))
    return nn.Dense(self.size * self.size * self.channels)(x).reshape(z.shape[0], self.size, self.size,
                                                                     self.channels)


class CoarseDiscriminator(nn.Module):
  """D_0: the coarsest image [B, s, s, C] (and one-hot labels) -> logits [B] (fully connected, dropout)."""
  hidden: int = 600
  dropout: float = 0.5

  @nn.compact
  def __call__(self, x, cond=None, train: bool = True):
    x = x.reshape(x.shape[0], -1).astype(jnp.float32)
    if cond is not None:
      x = jnp.concatenate([x, cond.astype(jnp.float32)], axis=-1)
    for _ in range(2):
      x = nn.Dropout(self.dropout, deterministic=not train)(nn.relu(nn.Dense(self.hidden)(x)))
    return nn.Dense(1)(x)[:, 0]


class LevelGenerator(nn.Module):
  """G_k: (noise plane z [B, n, n, 1], coarse image u(I_{k+1}) [B, n, n, C], one-hot labels) -> residual h_k."""
  channels: int = 3
  hidden: int = 64

  @nn.compact
  def __call__(self, z, coarse, cond=None, train: bool = True):
    maps = [z, coarse] if cond is None else [z, _label_plane(cond, coarse.shape[1]), coarse]
    x = jnp.concatenate(maps, axis=-1).astype(jnp.float32)
    x = nn.relu(nn.Conv(self.hidden, (7, 7), padding="SAME")(x))
    x = nn.relu(nn.Conv(self.hidden, (7, 7), padding="SAME")(x))
    return nn.Conv(self.channels, (5, 5), padding="SAME")(x)


class LevelDiscriminator(nn.Module):
  """D_k: (residual h_k or G_k's output [B, n, n, C], coarse image u(I_{k+1}), one-hot labels) -> logits [B];
  the coarse image is added to the residual before the first layer."""
  hidden: int = 64
  dropout: float = 0.5

  @nn.compact
  def __call__(self, residual, coarse, cond=None, train: bool = True):
    if residual.shape[1] < 9:
      raise UserError(f"lapgan level discriminator needs images of at least 9x9, got {residual.shape[1:3]}")
    x = (residual + coarse).astype(jnp.float32)
    if cond is not None:
      x = jnp.concatenate([x, _label_plane(cond, x.shape[1])], axis=-1)
    x = nn.relu(nn.Conv(self.hidden, (5, 5), padding="VALID")(x))
    x = nn.relu(nn.Conv(self.hidden, (5, 5), (2, 2), padding="VALID")(x))
    x = nn.Dropout(self.dropout, deterministic=not train)(x.reshape(x.shape[0], -1))
    return nn.Dense(1)(x)[:, 0]


def sample(g0_apply: Callable, level_applies: Sequence[Callable], key: jax.Array, batch: int, noise_dim: int = 100,
           cond=None) -> list[jax.Array]:
  """Coarse-to-fine sampling (sec. 3, eq. 3): I_K = G_0(z_0), then I_k = u(I_{k+1}) + G_k(z_k, u(I_{k+1})).

  `g0_apply(z, cond)` and each `level_applies[k](z_plane, coarse, cond)` are the levels' apply functions
  (closed over their variables), coarse to fine; noise is uniform in [-1, 1]. Returns the images at every
  scale, coarsest first (the last is the sample).
  """
  keys = jax.random.split(key, len(level_applies) + 1)
  image = g0_apply(jax.random.uniform(keys[0], (batch, noise_dim), minval=-1.0, maxval=1.0), cond)
  images = [image]
  for k, apply in enumerate(level_applies):
    coarse = upsample(image)
    z = jax.random.uniform(keys[k + 1], (*coarse.shape[:3], 1), minval=-1.0, maxval=1.0)
    image = coarse + apply(z, coarse, cond)
    images.append(image)
  return images


def scales(image_size: int, coarse_size: int = 8) -> list[int]:
  """The pyramid's sizes, coarsest first: coarse_size, 2 coarse_size, ..., image_size."""
  sizes = [coarse_size]
  while sizes[-1] < image_size:
    sizes.append(sizes[-1] * 2)
  if sizes[-1] != image_size or coarse_size < 1:
    raise UserError(f"lapgan: image_size must be coarse_size ({coarse_size}) times a power of two, got {image_size}")
  return sizes


@summary.FAMILIES.register("lapgan")
def counts(image_size: int, channels: int, num_classes: int, coarseSize: int = 8, noiseDim: int = 100,
           hidden_G0: int = 1200, hidden_D0: int = 600, hidden_G: int = 64, hidden_D: int = 64) -> dict:
  """Parameters per pyramid level ('generator_8', 'discriminator_8', ...) and in total; option names as the
  eyescream scripts' (coarseSize, noiseDim, hidden_G, hidden_D; the 8x8 level's 1200 / 600 units are the
  paper's, sec. 4). CIFAR-10 at 32 px: G 1,792,992 + 2 x 218,179 = 2,229,350; D 477,001 + 108,353 + 116,545
  = 701,899."""
  sizes = scales(image_size, int(coarseSize))
  shape = lambda *s: jax.ShapeDtypeStruct(s, jnp.float32)
  cond = shape(1, num_classes) if num_classes else None
  s0 = sizes[0]
  out = {f"generator_{s0}": summary.param_count(CoarseGenerator(s0, channels, int(hidden_G0)), shape(1, int(noiseDim)),
                                               cond, train=False),
         f"discriminator_{s0}": summary.param_count(CoarseDiscriminator(int(hidden_D0)), shape(1, s0, s0, channels),
                                                   cond, train=False)}
  for n in sizes[1:]:
    image = shape(1, n, n, channels)
    out[f"generator_{n}"] = summary.param_count(LevelGenerator(channels, int(hidden_G)), shape(1, n, n, 1), image,
                                                cond, train=False)
    out[f"discriminator_{n}"] = summary.param_count(LevelDiscriminator(int(hidden_D)), image, image, cond,
                                                    train=False)
  return {"generator": sum(v for k, v in out.items() if k.startswith("generator_")),
          "discriminator": sum(v for k, v in out.items() if k.startswith("discriminator_")), **out}
