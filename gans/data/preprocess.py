"""Preprocessing named in the config, e.g. "value_range(-1,1)|resize(64)|flip_lr".

Each op maps (images, seed) -> images on a batch [B, H, W, C]; random ops draw every image's
randomness at once with stateless TF random ops seeded by (config seed, batch index), so a resumed run
sees exactly the same augmented data. Working on whole batches keeps the input pipeline cheap: per
example, tf.data's map cost ~18 ms of CPU per batch of 128 for LeNet-5's erasing, as much as its step.
"""
import ast
import re
from typing import Callable

import tensorflow as tf

from gans.errors import UserError
from gans.registry import Registry

Op = Callable[[tf.Tensor, tf.Tensor], tf.Tensor]
OPS: Registry[Callable[..., Op]] = Registry("preprocessing op")  # name -> factory(*args) -> Op


def _op(fn):
  return OPS.register(fn.__name__, fn)


def _per_image(seed, images, lo=0.0, hi=1.0, dtype=tf.float32):
  """One uniform draw per image of the batch, shaped [B, 1, 1, 1] to broadcast over its pixels."""
  return tf.random.stateless_uniform(tf.shape(images)[:1], seed, lo, hi, dtype)[:, None, None, None]


def _in_float(fn):
  """Applies a float-valued adjustment to float images, or to uint8 ones in [0, 1] (as tf.image does)."""
  def f(images, seed):
    if images.dtype != tf.uint8:
      return fn(images, seed)
    out = fn(tf.image.convert_image_dtype(images, tf.float32), seed)
    return tf.image.convert_image_dtype(out, tf.uint8, saturate=True)
  return f


@_op
def value_range(lo: float = -1.0, hi: float = 1.0) -> Op:
  """uint8 [0, 255] -> float32 [lo, hi]."""
  return lambda images, seed: tf.cast(images, tf.float32) / 255.0 * (hi - lo) + lo


@_op
def resize(size: int, method: str = "bilinear") -> Op:
  """Resizes to size x size (antialiased when shrinking)."""
  def f(images, seed):
    out = tf.image.resize(tf.cast(images, tf.float32), (size, size), method=method, antialias=True)
    return tf.cast(tf.round(tf.clip_by_value(out, 0, 255)), images.dtype) if images.dtype == tf.uint8 else out
  return f


@_op
def flip_lr() -> Op:
  """Random left-right flip, each image with probability 1/2."""
  return lambda images, seed: tf.where(_per_image(seed, images) < 0.5, tf.reverse(images, [2]), images)


@_op
def random_crop(size: int, pad: int = 0) -> Op:
  """Zero-pads by `pad` on each side then takes a random size x size crop of each image."""
  def f(images, seed):
    if pad:
      images = tf.pad(images, [[0, 0], [pad, pad], [pad, pad], [0, 0]])
    seeds = tf.random.experimental.stateless_split(seed, 2)
    for axis in (1, 2):
      room = tf.shape(images)[axis] - size + 1
      start = tf.cast(tf.random.stateless_uniform(tf.shape(images)[:1], seeds[axis - 1])
                      * tf.cast(room, tf.float32), tf.int32)
      images = tf.gather(images, start[:, None] + tf.range(size), axis=axis, batch_dims=1)
    return images
  return f


@_op
def random_crop_varying(size: int) -> Op:
  """A random size x size crop of each image of a batch whose images differ in size (a tf.RaggedTensor
  [B, (H), (W), C], as `tf.data.Dataset.ragged_batch` makes it; a dense batch works too). The crop's corner is
  uniform over the (H - size + 1) x (W - size + 1) positions of its image; every image must be at least
  size x size (an InvalidArgumentError otherwise). The result is a dense [B, size, size, C] batch."""
  if size < 1:
    raise UserError(f"random_crop_varying needs a positive size, got {size}")

  def f(images, seed):
    count = images.nrows() if isinstance(images, tf.RaggedTensor) else tf.shape(images)[0]
    corners = tf.random.stateless_uniform(tf.stack([count, 2]), seed)

    def crop(image_and_corner):
      image, corner = image_and_corner
      image = image.to_tensor() if isinstance(image, tf.RaggedTensor) else image
      height_width = tf.shape(image)[:2]
      with tf.control_dependencies([tf.debugging.assert_greater_equal(
          height_width, size, message=f"random_crop_varying({size}) got an image smaller than {size} x {size}")]):
        start = tf.cast(corner * tf.cast(height_width - size + 1, tf.float32), tf.int32)
      return tf.slice(image, tf.concat([start, [0]], 0), [size, size, -1])
    return tf.map_fn(crop, (images, corners),
                     fn_output_signature=tf.TensorSpec([size, size, images.shape[-1]], images.dtype))
  return f


@_op
def grayscale_to_rgb() -> Op:
  """Repeats a single channel three times."""
  return lambda images, seed: tf.image.grayscale_to_rgb(images)


@_op
def random_brightness(max_delta: float) -> Op:
  """Adds one delta ~ U(-max_delta, max_delta) per image to its pixels (uint8: in [0, 1] units)."""
  return _in_float(lambda images, seed: images + _per_image(seed, images, -max_delta, max_delta))


@_op
def random_contrast(lower: float, upper: float) -> Op:
  """Scales each channel's deviation from its mean by a factor ~ U(lower, upper) per image."""
  def f(images, seed):
    mean = tf.reduce_mean(images, axis=(1, 2), keepdims=True)
    return (images - mean) * _per_image(seed, images, lower, upper) + mean
  return _in_float(f)


@_op
def random_erasing(p: float = 0.5, sl: float = 0.02, sh: float = 0.4, r1: float = 0.3,
                   value: float | None = None, lo: float = -1.0, hi: float = 1.0, attempts: int = 10) -> Op:
  """Random erasing (Zhong et al. 2017, Alg. 1): with probability `p`, fills one random rectangle.

  The rectangle has area S_e ~ U(sl, sh) * H * W and aspect ratio r_e ~ U(r1, 1/r1), so
  H_e = sqrt(S_e r_e), W_e = sqrt(S_e / r_e); of `attempts` draws the first that fits is used (none
  fits: the image is kept), placed uniformly at random inside the image. The fill is `value`, or
  else uniform noise per pixel (Alg. 1 line 11): in [lo, hi] for float images, [0, 255] for uint8.
  Every image of the batch draws its own rectangle.
  """
  if not (0 <= p <= 1 and 0 < sl <= sh <= 1 and 0 < r1 <= 1 and attempts >= 1):
    raise UserError(f"random_erasing needs 0<=p<=1, 0<sl<=sh<=1, 0<r1<=1, attempts>=1; got "
                    f"p={p}, sl={sl}, sh={sh}, r1={r1}, attempts={attempts}")

  def f(images, seed):
    s = tf.random.experimental.stateless_split(seed, 6)
    b, h, w = tf.unstack(tf.shape(images)[:3])
    area = tf.cast(h * w, tf.float32)
    target = tf.random.stateless_uniform([b, attempts], s[0], sl, sh) * area
    ratio = tf.random.stateless_uniform([b, attempts], s[1], r1, 1.0 / r1)
    he = tf.cast(tf.round(tf.sqrt(target * ratio)), tf.int32)
    we = tf.cast(tf.round(tf.sqrt(target / ratio)), tf.int32)
    fits = (he < h) & (we < w) & (he > 0) & (we > 0)
    first = tf.argmax(tf.cast(fits, tf.int32), axis=1, output_type=tf.int32)[:, None]
    he, we, fit = (tf.gather(t, first, batch_dims=1)[:, :, None, None] for t in (he, we, fits))
    y = tf.cast(_per_image(s[2], images) * tf.cast(h - he + 1, tf.float32), tf.int32)
    x = tf.cast(_per_image(s[3], images) * tf.cast(w - we + 1, tf.float32), tf.int32)
    rows, cols = tf.range(h)[None, :, None, None], tf.range(w)[None, None, :, None]
    inside = (rows >= y) & (rows < y + he) & (cols >= x) & (cols < x + we)
    erase = inside & fit & (_per_image(s[4], images) < p)
    if value is not None:
      fill = tf.fill(tf.shape(images), tf.cast(value, images.dtype))
    elif images.dtype == tf.uint8:
      fill = tf.cast(tf.random.stateless_uniform(tf.shape(images), s[5], 0, 256, tf.int32), tf.uint8)
    else:
      fill = tf.random.stateless_uniform(tf.shape(images), s[5], lo, hi, images.dtype)
    return tf.where(erase, fill, images)
  return f


_SPEC = re.compile(r"^\s*([a-z_0-9]+)\s*(?:\((.*)\))?\s*$")


def _parse(item: str) -> Op:
  m = _SPEC.match(item)
  if not m:
    raise UserError(f"bad preprocessing op {item!r}; known ops: {', '.join(OPS.names())}")
  factory = OPS.get(m.group(1))
  try:
    args = ast.literal_eval(f"({m.group(2)},)") if m.group(2) else ()
  except (ValueError, SyntaxError):
    raise UserError(f"bad arguments in preprocessing op {item!r}") from None
  return factory(*args)


def build(spec: str) -> Op:
  """Parses "op1(args)|op2|..." into one function (images [B, H, W, C], seed[2]) -> images."""
  ops = [_parse(item) for item in spec.split("|") if item.strip()]

  def apply(images, seed):
    if images.shape.rank != 4:
      raise UserError(f"preprocessing takes a batch [B, H, W, C] of images, got shape {images.shape}")
    for i, op in enumerate(ops):
      images = op(images, tf.random.experimental.stateless_fold_in(seed, i))
    return images
  return apply


def output_shape(op: Op, shape) -> tuple[int, ...]:
  """The shape [H, W, C] that `op` (from `build`) gives a uint8 image of `shape` (None: a size that varies)."""
  seed = tf.constant([0, 0], tf.int64)
  if None not in shape:
    return tuple(op(tf.zeros((1, *shape), tf.uint8), seed).shape[1:])
  traced = tf.function(lambda images: op(images, seed)).get_concrete_function(tf.TensorSpec((1, *shape), tf.uint8))
  return tuple(traced.structured_outputs.shape[1:])
