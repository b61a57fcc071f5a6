"""Preprocessing named in the config, e.g. "value_range(-1,1)|resize(64)|flip_lr".

Each op maps (image, seed) -> image on one example; random ops use stateless TF random ops seeded by
the example's position in the stream, so a resumed run sees exactly the same augmented data.
"""
import ast
import re
from typing import Callable

import tensorflow as tf

from gans.errors import UserError

Op = Callable[[tf.Tensor, tf.Tensor], tf.Tensor]
_OPS: dict[str, Callable[..., Op]] = {}


def _op(fn):
  _OPS[fn.__name__] = fn
  return fn


@_op
def value_range(lo: float = -1.0, hi: float = 1.0) -> Op:
  """uint8 [0, 255] -> float32 [lo, hi]."""
  return lambda img, seed: tf.cast(img, tf.float32) / 255.0 * (hi - lo) + lo


@_op
def resize(size: int, method: str = "bilinear") -> Op:
  """Resizes to size x size (antialiased when shrinking)."""
  def f(img, seed):
    out = tf.image.resize(tf.cast(img, tf.float32), (size, size), method=method, antialias=True)
    return tf.cast(tf.round(tf.clip_by_value(out, 0, 255)), img.dtype) if img.dtype == tf.uint8 else out
  return f


@_op
def flip_lr() -> Op:
  """Random left-right flip."""
  return lambda img, seed: tf.image.stateless_random_flip_left_right(img, seed)


@_op
def random_crop(size: int, pad: int = 0) -> Op:
  """Zero-pads by `pad` on each side then takes a random size x size crop."""
  def f(img, seed):
    if pad:
      img = tf.pad(img, [[pad, pad], [pad, pad], [0, 0]])
    return tf.image.stateless_random_crop(img, (size, size, tf.shape(img)[-1]), seed)
  return f


@_op
def grayscale_to_rgb() -> Op:
  """Repeats a single channel three times."""
  return lambda img, seed: tf.image.grayscale_to_rgb(img)


_SPEC = re.compile(r"^\s*([a-z_0-9]+)\s*(?:\((.*)\))?\s*$")


def _parse(item: str) -> Op:
  m = _SPEC.match(item)
  if not m or m.group(1) not in _OPS:
    raise UserError(f"unknown preprocessing op {item!r}; known ops: {', '.join(sorted(_OPS))}")
  try:
    args = ast.literal_eval(f"({m.group(2)},)") if m.group(2) else ()
  except (ValueError, SyntaxError):
    raise UserError(f"bad arguments in preprocessing op {item!r}") from None
  return _OPS[m.group(1)](*args)


def build(spec: str) -> Op:
  """Parses "op1(args)|op2|..." into one function (image, seed[2]) -> image."""
  ops = [_parse(item) for item in spec.split("|") if item.strip()]

  def apply(img, seed):
    for i, op in enumerate(ops):
      img = op(img, tf.random.experimental.stateless_fold_in(seed, i))
    return img
  return apply
