"""Progressive GAN (Karras, Aila, Laine & Lehtinen 2018, "Progressive Growing of GANs"), the paper's networks
(Table 2) as tkarras/progressive_growing_of_gans `networks.py` (G_paper, D_paper) builds them:

- Equalised learning rate (sec. 4.1): every weight ~ N(0, 1), multiplied at run time by He's constant
  gain / sqrt(fan_in) (gain sqrt(2); 1 for toRGB and D's last dense layer; sqrt(2)/4 for G's first dense layer,
  as the reference); biases start at zero.
- Pixelwise feature vector normalisation in G (sec. 4.2) after every conv (and of the latent), leaky ReLU 0.2.
- Minibatch standard deviation (sec. 3) before D's last 3x3 conv, group size 4.
- Growing (sec. 2): G starts at 4x4 (dense to 4x4, 3x3 conv), each stage doubles the resolution (nearest
  upsampling, two 3x3 convs); D mirrors it with 2x2 average pooling. Feature maps nf(stage) =
  min(fmap_base / 2^stage, fmap_max). While a new stage fades in, `alpha` in [0, 1] blends: G outputs
  (1 - alpha) * upsample(toRGB(previous stage)) + alpha * toRGB(new stage); D sees
  (1 - alpha) * fromRGB(downsampled image) + alpha * block(fromRGB(image)) at the previous stage's input.

The networks are built for a target `resolution` and a current `lod` (level of detail: the current resolution
is resolution / 2^lod); G outputs and D takes images at the current resolution. Every stage's variables (all
toRGB / fromRGB layers included) are created at init whatever the lod, so the variable tree is the reference's
and stays the same while the network grows. The paper's non-fused layers are used (the reference's
fused_scale variants compute the same functions). Labels: G gets them concatenated to the latent; D predicts
them with extra outputs (label_size in the reference), i.e. an auxiliary class head.
"""
import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

from gans.errors import UserError
from gans.models import summary
from gans.models.gan import ARCHITECTURES

_SQRT2 = float(np.sqrt(2.0))


def pixel_norm(x: jax.Array, eps: float = 1e-8) -> jax.Array:
  """x / sqrt(mean over channels of x^2 + eps), per pixel (sec. 4.2)."""
  return x * jax.lax.rsqrt(jnp.mean(jnp.square(x), axis=-1, keepdims=True) + eps)


def minibatch_stddev(x: jax.Array, group_size: int = 4) -> jax.Array:
  """Appends one map: the stddev over each group of min(group_size, B) samples (sample i in group i mod B/G),
  averaged over channels and pixels (sec. 3)."""
  b = x.shape[0]
  g = min(group_size, b)
  if b % g:
    raise UserError(f"progan minibatch stddev: batch {b} is not a multiple of the group size {g}")
  y = x.astype(jnp.float32).reshape(g, b // g, *x.shape[1:])
  y = jnp.mean(jnp.sqrt(jnp.mean(jnp.square(y - jnp.mean(y, axis=0)), axis=0) + 1e-8), axis=(1, 2, 3))
  y = jnp.broadcast_to(jnp.tile(y, g)[:, None, None, None], (*x.shape[:3], 1))
  return jnp.concatenate([x, y.astype(x.dtype)], axis=-1)


def upscale2d(x: jax.Array) -> jax.Array:
  """2x nearest-neighbour upsampling."""
  return jnp.repeat(jnp.repeat(x, 2, axis=1), 2, axis=2)


def downscale2d(x: jax.Array, factor: int = 2) -> jax.Array:
  """factor x factor average pooling."""
  b, h, w, c = x.shape
  return x.reshape(b, h // factor, factor, w // factor, factor, c).mean(axis=(2, 4))


class EqualizedConv(nn.Module):
  """k x k 'SAME' conv (or dense layer when `kernel_size` is 0): kernel ~ N(0, 1), used as kernel *
  gain / sqrt(fan_in) (sec. 4.1), then bias."""
  features: int
  kernel_size: int = 3
  gain: float = _SQRT2
  use_bias: bool = True

  @nn.compact
  def __call__(self, x):
    if self.kernel_size == 0:
      x = x.reshape(x.shape[0], -1)
      kernel = self.param("kernel", nn.initializers.normal(1.0), (x.shape[-1], self.features))
      y = x @ (kernel * (self.gain / np.sqrt(x.shape[-1])))
    else:
      k = self.kernel_size
      kernel = self.param("kernel", nn.initializers.normal(1.0), (k, k, x.shape[-1], self.features))
      y = jax.lax.conv_general_dilated(x, kernel * (self.gain / np.sqrt(k * k * x.shape[-1])), (1, 1), "SAME",
                                       dimension_numbers=("NHWC", "HWIO", "NHWC"))
    return y + self.param("bias", nn.initializers.zeros, (self.features,)) if self.use_bias else y


def _check(resolution: int, lod: int) -> int:
  if resolution < 4 or resolution & (resolution - 1):
    raise UserError(f"progan needs square images whose size is a power of two >= 4, got {resolution}")
  log2 = int(np.log2(resolution))
  if not 0 <= lod <= log2 - 2:
    raise UserError(f"progan lod must be in 0..{log2 - 2} at {resolution} px (4x4 is lod {log2 - 2}), got {lod}")
  return log2


class Generator(nn.Module):
  """z [B, latent] (and one-hot labels [B, K]) -> images [B, S, S, C] at S = resolution / 2^lod (linear output).

  `apply(v, z, cond, train=..., alpha=1.0)`: alpha blends the new stage in (alpha 0: the upsampled output
  of the previous stage).
  """
  resolution: int = 1024
  channels: int = 3
  lod: int = 0
  fmap_base: int = 8192
  fmap_decay: float = 1.0
  fmap_max: int = 512

  def nf(self, stage: int) -> int:
    return min(int(self.fmap_base / (2.0 ** (stage * self.fmap_decay))), self.fmap_max)

  @nn.compact
  def __call__(self, z, cond=None, train: bool = True, alpha=1.0):
    log2 = _check(self.resolution, self.lod)
    current = log2 - self.lod
    top = log2 if self.is_initializing() else current  # every stage's variables exist from init on
    x = z.astype(jnp.float32) if cond is None else jnp.concatenate([z, cond], axis=-1).astype(jnp.float32)
    x = pixel_norm(x)
    act = lambda v: pixel_norm(nn.leaky_relu(v, 0.2))
    images = {}
    for res in range(2, top + 1):
      size = 2 ** res
      if res > current:  # only at init: create the later stages on a zero map of their input shape
        x = jnp.zeros((1, size // 2, size // 2, self.nf(res - 2)))
      if res == 2:
        # Dense to 16 * nf(1) without bias, reshaped to 4x4 maps, one bias per map (as the reference; its
        # channel-major reshape is a permutation of the dense outputs, equivalent under the i.i.d. init).
        x = EqualizedConv(self.nf(1) * 16, 0, _SQRT2 / 4, use_bias=False, name="4x4_dense")(x)
        x = act(x.reshape(x.shape[0], 4, 4, self.nf(1)) + self.param("4x4_dense_bias", nn.initializers.zeros,
                                                                     (self.nf(1),)))
        x = act(EqualizedConv(self.nf(1), 3, name="4x4_conv")(x))
      else:
        x = act(EqualizedConv(self.nf(res - 1), 3, name=f"{size}x{size}_conv0")(upscale2d(x)))
        x = act(EqualizedConv(self.nf(res - 1), 3, name=f"{size}x{size}_conv1")(x))
      if res >= current - 1:
        images[res] = EqualizedConv(self.channels, 1, 1.0, name=f"torgb_lod{log2 - res}")(x)
      elif self.is_initializing():
        EqualizedConv(self.channels, 1, 1.0, name=f"torgb_lod{log2 - res}")(x)
    if current == 2:
      return images[2]
    return upscale2d(images[current - 1]) + alpha * (images[current] - upscale2d(images[current - 1]))


class Discriminator(nn.Module):
  """images [B, S, S, C] at S = resolution / 2^lod -> logits [B]; with `label_size` K > 0 a dict
  {'adv': [B], 'class_logits': [B, K]} (the reference's extra label outputs). `apply(v, x, train=..., alpha=1.0)`:
  alpha blends the new stage in (alpha 0: the previous stage on the 2x downsampled image)."""
  resolution: int = 1024
  lod: int = 0
  label_size: int = 0
  fmap_base: int = 8192
  fmap_decay: float = 1.0
  fmap_max: int = 512
  mbstd_group_size: int = 4

  def nf(self, stage: int) -> int:
    return min(int(self.fmap_base / (2.0 ** (stage * self.fmap_decay))), self.fmap_max)

  @nn.compact
  def __call__(self, images, cond=None, train: bool = True, alpha=1.0):
    if cond is not None:
      raise UserError("progan's discriminator takes no label input; it predicts labels (a class head)")
    log2 = _check(self.resolution, self.lod)
    current = log2 - self.lod
    if images.shape[1:3] != (2 ** current, 2 ** current):
      raise UserError(f"progan D at lod {self.lod} takes {2 ** current}x{2 ** current} images, got "
                      f"{images.shape[1:3]}")
    fromrgb = lambda img, res: nn.leaky_relu(EqualizedConv(self.nf(res - 1), 1, name=f"fromrgb_lod{log2 - res}")(
        img), 0.2)
    images = images.astype(jnp.float32)
    if self.is_initializing():  # every stage's variables exist from init on
      for res in range(log2, 1, -1):
        size = 2 ** res
        if res not in (current, current - 1):
          fromrgb(jnp.zeros((1, size, size, images.shape[-1])), res)
        if res > current:
          self._block(jnp.zeros((1, size, size, self.nf(res - 1))), res)
    x = self._block(fromrgb(images, current), current)
    if current > 2:
      previous = fromrgb(downscale2d(images), current - 1)
      x = previous + alpha * (x - previous)
      for res in range(current - 1, 1, -1):
        x = self._block(x, res)
    if self.label_size:
      return {"adv": x[:, 0], "class_logits": x[:, 1:]}
    return x[:, 0]

  def _block(self, x, res: int):
    """Stage `res` (log2 of its input size): two 3x3 convs then 2x2 average pooling; at 4x4 minibatch stddev,
    3x3 conv, dense nf(0), dense 1 + label_size."""
    act = lambda v: nn.leaky_relu(v, 0.2)
    size = 2 ** res
    if res >= 3:
      x = act(EqualizedConv(self.nf(res - 1), 3, name=f"{size}x{size}_conv0")(x))
      x = act(EqualizedConv(self.nf(res - 2), 3, name=f"{size}x{size}_conv1")(x))
      return downscale2d(x)
    x = minibatch_stddev(x, self.mbstd_group_size) if self.mbstd_group_size > 1 else x
    x = act(EqualizedConv(self.nf(1), 3, name="4x4_conv")(x))
    x = act(EqualizedConv(self.nf(0), 0, name="4x4_dense0")(x))
    return EqualizedConv(1 + self.label_size, 0, 1.0, name="4x4_dense1")(x)


def _networks(image_size: int, channels: int, num_classes: int, lod: int = 0, fmap_base: int = 8192,
              fmap_decay: float = 1.0, fmap_max: int = 512, mbstd_group_size: int = 4):
  _check(image_size, lod)
  if int(fmap_base) < 1 or int(fmap_max) < 1 or float(fmap_decay) < 0:
    raise UserError(f"progan needs fmap_base, fmap_max >= 1 and fmap_decay >= 0, got {fmap_base}, {fmap_max}, "
                    f"{fmap_decay}")
  sizes = dict(fmap_base=int(fmap_base), fmap_decay=float(fmap_decay), fmap_max=int(fmap_max))
  return (Generator(image_size, channels, int(lod), **sizes),
          Discriminator(image_size, int(lod), num_classes, **sizes, mbstd_group_size=int(mbstd_group_size)))


@ARCHITECTURES.register("progan")
def build(model_config, data_shape: tuple[int, ...], d_heads: dict):
  """`model_config`: `lod` (current level: the data are at image_size / 2^lod), and the reference's
  `fmap_base`, `fmap_decay`, `fmap_max`, `mbstd_group_size`; data_shape is the TARGET resolution [S, S, C].
  D's heads: the adversarial one and a class head (`num_classes`, the reference's label outputs)."""
  if len(data_shape) != 3 or data_shape[0] != data_shape[1]:
    raise UserError(f"progan needs square images [S, S, C], got data of shape {data_shape}")
  extra = {k: v for k, v in d_heads.items() if v and k not in ("adv", "num_classes")}
  if extra:
    raise UserError(f"progan's discriminator has no {', '.join(sorted(extra))} head")
  keys = ("lod", "fmap_base", "fmap_decay", "fmap_max", "mbstd_group_size")
  return _networks(data_shape[0], data_shape[2], int(d_heads.get("num_classes", 0)),
                   **{k: model_config[k] for k in keys if k in model_config})


@summary.FAMILIES.register("progan")
def counts(image_size: int, channels: int, num_classes: int, fmap_base: int = 8192, fmap_decay: float = 1.0,
           fmap_max: int = 512, latent_size: int | None = None, mbstd_group_size: int = 4) -> dict:
  """Parameters of the full networks (every stage, every toRGB/fromRGB); the reference's G_paper / D_paper
  defaults (latent_size None = nf(0)); labels widen G's input and D's output (label_size = num_classes)."""
  g, d = _networks(image_size, channels, num_classes, 0, fmap_base, fmap_decay, fmap_max, mbstd_group_size)
  latent = g.nf(0) if latent_size is None else int(latent_size)
  z = jax.ShapeDtypeStruct((1, latent), jnp.float32)
  cond = jax.ShapeDtypeStruct((1, num_classes), jnp.float32) if num_classes else None
  x = jax.ShapeDtypeStruct((1, image_size, image_size, channels), jnp.float32)
  return {"generator": summary.param_count(g, z, cond, train=False),
          "discriminator": summary.param_count(d, x, train=False)}
