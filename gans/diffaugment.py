"""DiffAugment (Zhao et al. 2020, "Differentiable Augmentation for Data-Efficient GAN Training", sec. 3):
the same random, differentiable augmentation T applied to real and generated images before D, in both D's and
G's updates, so that G's gradient flows through T.

Policies (comma-separated, applied in order), with the ranges of the authors' DiffAugment_pytorch.py; images
NHWC in [-1, 1], one random draw per image:
  color:       brightness x + (u - 0.5); saturation (x - mean_c) * 2u + mean_c;
               contrast (x - mean_chw) * (u + 0.5) + mean_chw; u ~ U[0, 1), the three in this order.
  translation: shift by integers in [-r, r] per axis, r = int(S/8 + 0.5), filling with zeros.
  cutout:      zero a square of half the image's size (int(S/2 + 0.5)) centred at a uniform position (it may
               hang over the border).
"""
from typing import Callable

import jax
import jax.numpy as jnp

from gans.errors import UserError


def _uniform(key, x):
  return jax.random.uniform(key, (x.shape[0], 1, 1, 1), x.dtype)


def brightness(x: jax.Array, key: jax.Array) -> jax.Array:
  return x + (_uniform(key, x) - 0.5)


def saturation(x: jax.Array, key: jax.Array) -> jax.Array:
  mean = x.mean(axis=3, keepdims=True)
  return (x - mean) * (_uniform(key, x) * 2) + mean


def contrast(x: jax.Array, key: jax.Array) -> jax.Array:
  mean = x.mean(axis=(1, 2, 3), keepdims=True)
  return (x - mean) * (_uniform(key, x) + 0.5) + mean


def translate(x: jax.Array, shift_h: jax.Array, shift_w: jax.Array) -> jax.Array:
  """out[b, i, j] = x[b, i + shift_h[b], j + shift_w[b]], zero where that lies outside the image (content moves
  up by shift_h and left by shift_w rows/columns)."""
  b, h, w, _ = x.shape
  padded = jnp.pad(x, ((0, 0), (1, 1), (1, 1), (0, 0)))  # index 0 and size + 1 are the zero border
  rows = jnp.clip(jnp.arange(h)[None, :] + shift_h[:, None] + 1, 0, h + 1)
  cols = jnp.clip(jnp.arange(w)[None, :] + shift_w[:, None] + 1, 0, w + 1)
  padded = jnp.take_along_axis(padded, rows[:, :, None, None], axis=1)
  return jnp.take_along_axis(padded, cols[:, None, :, None], axis=2)


def translation(x: jax.Array, key: jax.Array, ratio: float = 0.125) -> jax.Array:
  b, h, w, _ = x.shape
  max_h, max_w = int(h * ratio + 0.5), int(w * ratio + 0.5)
  key_h, key_w = jax.random.split(key)
  return translate(x, jax.random.randint(key_h, (b,), -max_h, max_h + 1),
                   jax.random.randint(key_w, (b,), -max_w, max_w + 1))


def cutout_mask(shape: tuple[int, ...], center_h: jax.Array, center_w: jax.Array, size: tuple[int, int]) -> jax.Array:
  """[B, H, W, 1] mask, 0 on rows [c_h - size_h // 2, c_h - size_h // 2 + size_h) x the same for columns."""
  _, h, w, _ = shape
  top, left = center_h - size[0] // 2, center_w - size[1] // 2
  i, j = jnp.arange(h)[None, :], jnp.arange(w)[None, :]
  in_rows = (i >= top[:, None]) & (i < top[:, None] + size[0])
  in_cols = (j >= left[:, None]) & (j < left[:, None] + size[1])
  return (~(in_rows[:, :, None] & in_cols[:, None, :]))[..., None]


def cutout(x: jax.Array, key: jax.Array, ratio: float = 0.5) -> jax.Array:
  b, h, w, _ = x.shape
  size = int(h * ratio + 0.5), int(w * ratio + 0.5)
  key_h, key_w = jax.random.split(key)
  center_h = jax.random.randint(key_h, (b,), 0, h + (1 - size[0] % 2))
  center_w = jax.random.randint(key_w, (b,), 0, w + (1 - size[1] % 2))
  return x * cutout_mask(x.shape, center_h, center_w, size).astype(x.dtype)


AUGMENTATIONS: dict[str, tuple[Callable[[jax.Array, jax.Array], jax.Array], ...]] = {
    "color": (brightness, saturation, contrast),
    "translation": (translation,),
    "cutout": (cutout,),
}


def parse_policy(policy: str) -> list[str]:
  """'color,translation' -> ['color', 'translation']; '' -> []; an unknown name is a UserError."""
  names = [p.strip() for p in policy.split(",") if p.strip()]
  unknown = [p for p in names if p not in AUGMENTATIONS]
  if unknown:
    raise UserError(f"unknown DiffAugment policy {', '.join(unknown)}; known: {', '.join(AUGMENTATIONS)}")
  return names


def diff_augment(images: jax.Array, key: jax.Array, policy: str = "color,translation,cutout") -> jax.Array:
  """Applies `policy` to images [B, H, W, C]; differentiable in `images`. Empty policy: the identity."""
  x = images
  for name in parse_policy(policy):
    for fn in AUGMENTATIONS[name]:
      key, sub = jax.random.split(key)
      x = fn(x, sub)
  return x
