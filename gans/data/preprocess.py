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


@_op
def random_brightness(max_delta: float) -> Op:
  """Adds one delta ~ U(-max_delta, max_delta) to every pixel (float images: in their value range)."""
  return lambda img, seed: tf.image.stateless_random_brightness(img, max_delta, seed)


@_op
def random_contrast(lower: float, upper: float) -> Op:
  """Scales each channel's deviation from its mean by a factor ~ U(lower, upper)."""
  return lambda img, seed: tf.image.stateless_random_contrast(img, lower, upper, seed)


@_op
def random_erasing(p: float = 0.5, sl: float = 0.02, sh: float = 0.4, r1: float = 0.3,
                   value: float | None = None, lo: float = -1.0, hi: float = 1.0, attempts: int = 10) -> Op:
  """Random erasing (Zhong et al. 2017, Alg. 1): with probability `p`, fills one random rectangle.

  The rectangle has area S_e ~ U(sl, sh) * H * W and aspect ratio r_e ~ U(r1, 1/r1), so
  H_e = sqrt(S_e r_e), W_e = sqrt(S_e / r_e); of `attempts` draws the first that fits is used (none
  fits: the image is kept), placed uniformly at random inside the image. The fill is `value`, or
  else uniform noise per pixel (Alg. 1 line 11): in [lo, hi] for float images, [0, 255] for uint8.
  """
  if not (0 <= p <= 1 and 0 < sl <= sh <= 1 and 0 < r1 <= 1 and attempts >= 1):
    raise UserError(f"random_erasing needs 0<=p<=1, 0<sl<=sh<=1, 0<r1<=1, attempts>=1; got "
                    f"p={p}, sl={sl}, sh={sh}, r1={r1}, attempts={attempts}")

  def f(img, seed):
    s = tf.random.experimental.stateless_split(seed, 6)
    h, w = tf.shape(img)[0], tf.shape(img)[1]
    area = tf.cast(h * w, tf.float32)
    target = tf.random.stateless_uniform([attempts], s[0], sl, sh) * area
    ratio = tf.random.stateless_uniform([attempts], s[1], r1, 1.0 / r1)
    he = tf.cast(tf.round(tf.sqrt(target * ratio)), tf.int32)
    we = tf.cast(tf.round(tf.sqrt(target / ratio)), tf.int32)
    fits = (he < h) & (we < w) & (he > 0) & (we > 0)
    first = tf.argmax(tf.cast(fits, tf.int32), output_type=tf.int32)
    he, we = he[first], we[first]
    y = tf.random.stateless_uniform([], s[2], 0, tf.maximum(h - he + 1, 1), tf.int32)
    x = tf.random.stateless_uniform([], s[3], 0, tf.maximum(w - we + 1, 1), tf.int32)
    rows, cols = tf.range(h)[:, None, None], tf.range(w)[None, :, None]
    inside = (rows >= y) & (rows < y + he) & (cols >= x) & (cols < x + we)
    erase = inside & fits[first] & (tf.random.stateless_uniform([], s[4]) < p)
    if value is not None:
      fill = tf.fill(tf.shape(img), tf.cast(value, img.dtype))
    elif img.dtype == tf.uint8:
      fill = tf.cast(tf.random.stateless_uniform(tf.shape(img), s[5], 0, 256, tf.int32), tf.uint8)
    else:
      fill = tf.random.stateless_uniform(tf.shape(img), s[5], lo, hi, img.dtype)
    return tf.where(erase, fill, img)
  return f


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
