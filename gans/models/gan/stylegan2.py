"""StyleGAN2 (Karras et al. 2020, "Analyzing and Improving the Image Quality of StyleGAN"), config F.

Follows the official stylegan2-ada-pytorch `training/networks.py` layer for layer (names, gains, initialisation),
so the parameter counts are the reference's (1024 px RGB: G 30,370,060, D 29,012,513):
- Equalised learning rate (Karras et al. 2018, sec. 4.1): weights ~ N(0, 1) (N(0, 1/lr_multiplier^2) in the
  mapping network) scaled at run time by lr_multiplier / sqrt(fan_in); biases scaled by lr_multiplier.
  Leaky ReLU (0.2) outputs are multiplied by sqrt(2).
- Mapping network (Karras et al. 2019, sec. 2): z normalised to unit second moment, `map` dense layers with
  lr multiplier 0.01, tracked average w_avg (decay 0.995) in the 'batch_stats' collection for truncation.
  Conditioning: the one-hot label is embedded (dense, w_dim), normalised and concatenated to z.
- Synthesis network (sec. 2.2): learned 4x4 constant, per-layer modulated 3x3 convolutions with weight
  demodulation, per-pixel noise with a learned per-layer strength, skip architecture (sec. 4.1; toRGB outputs
  at every resolution, upsampled and summed).
- Discriminator: residual blocks (sec. 4.1; 'skip' and 'orig' are the reference's alternatives), minibatch
  standard deviation (Karras et al. 2018, sec. 3) with `mbstd` group size and one channel, then 3x3 conv, dense,
  dense; conditioning by projection onto a mapped label (Miyato & Koyama 2018) through its own 8-layer mapping.
- Resampling with the [1, 3, 3, 1] FIR low-pass filter (upfirdn2d): a separable filter applied as weighted
  sums of shifted slices, with the reference's paddings.

The modulated convolution is the reference's non-fused form (scale the input by the styles, one convolution
with the shared weight, scale its output by the demodulation coefficients): one batched convolution.

Not reproduced: mixed precision and conv_clamp (training-speed devices of the ada code), 'const' noise.
Regularisers: `path_length_penalty` (sec. 3.2) here; R1 is `gans.penalties`.
"""
from typing import Callable

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from gans.errors import UserError
from gans.models import layers, summary
from gans.models.gan import ARCHITECTURES

FIR_TAPS = (1.0, 3.0, 3.0, 1.0)  # the reference's resample_filter
_LRELU_GAIN = float(np.sqrt(2.0))


# ---------------------------------------------------------------------------------------------------------------
# Resampling (upfirdn2d with the [1, 3, 3, 1] filter) and convolution.

def fir_filter(x: jax.Array, pads: tuple[int, int], gain: float = 1.0, taps=FIR_TAPS) -> jax.Array:
  """Separable FIR filtering of NHWC `x` along H and W: zero-pad (negative pads crop) by `pads` (low, high),
  then convolve with taps / sum(taps) * sqrt(gain) per axis (a `gain` over the 2-D filter)."""
  f = np.asarray(taps, np.float64)[::-1]  # convolution, as upfirdn2d's flip_filter=False
  f = f / f.sum() * np.sqrt(gain)
  for axis in (1, 2):
    config = [(0, 0, 0)] * 4
    config[axis] = (pads[0], pads[1], 0)
    x = lax.pad(x, jnp.zeros((), x.dtype), config)
    n = x.shape[axis] - len(f) + 1
    x = sum(float(f[t]) * lax.slice_in_dim(x, t, t + n, axis=axis) for t in range(len(f)))
  return x


def upsample2d(x: jax.Array) -> jax.Array:
  """2x upsampling: zero insertion then the FIR filter with gain 4 (upfirdn2d.upsample2d)."""
  x = lax.pad(x, jnp.zeros((), x.dtype), [(0, 0, 0), (0, 1, 1), (0, 1, 1), (0, 0, 0)])
  return fir_filter(x, ((len(FIR_TAPS) + 1) // 2, (len(FIR_TAPS) - 2) // 2), gain=4.0)


def downsample2d(x: jax.Array) -> jax.Array:
  """2x downsampling: the FIR filter then every second pixel (upfirdn2d.downsample2d)."""
  p = (len(FIR_TAPS) - 1) // 2, (len(FIR_TAPS) - 2) // 2
  return fir_filter(x, p)[:, ::2, ::2]


def conv2d_resample(x: jax.Array, kernel: jax.Array, up: bool = False, down: bool = False) -> jax.Array:
  """NHWC `x` convolved with HWIO `kernel` (odd size k, 'same' padding k // 2), optionally with 2x FIR
  up- or downsampling, padded as the reference's conv2d_resample: up = a stride-2 transposed convolution then
  the filter (gain 4); down = the filter then a stride-2 convolution (a 1x1 kernel downsamples first)."""
  k = kernel.shape[0]
  p, fw = k // 2, len(FIR_TAPS)
  if up:
    y = layers.conv_transpose(x, kernel, 2, ((k - 1, k - 1), (k - 1, k - 1)))  # full output, 2n + k - 2
    return fir_filter(y, (p + (fw + 1) // 2 - (k - 1), p + (fw - 2) // 2 - (k - 2)), gain=4.0)
  if down:
    if k == 1:
      return jnp.einsum("bhwi,io->bhwo", downsample2d(x), kernel[0, 0])
    x = fir_filter(x, (p + (fw - 1) // 2, p + (fw - 2) // 2))
    return lax.conv_general_dilated(x, kernel, (2, 2), "VALID", dimension_numbers=("NHWC", "HWIO", "NHWC"))
  if k == 1:
    return jnp.einsum("bhwi,io->bhwo", x, kernel[0, 0])
  return lax.conv_general_dilated(x, kernel, (1, 1), [(p, p), (p, p)], dimension_numbers=("NHWC", "HWIO", "NHWC"))


def demodulation_coefficients(kernel: jax.Array, styles: jax.Array) -> jax.Array:
  """1 / ||w'_{b,o}||_2 of the modulated weights w'[b, :, :, i, o] = kernel[:, :, i, o] * styles[b, i]
  (sec. 2.2, eq. 3), computed without forming w': sum_i styles[b, i]^2 sum_taps kernel^2 -> [B, O]."""
  return lax.rsqrt(jnp.square(styles) @ jnp.sum(jnp.square(kernel), axis=(0, 1)) + 1e-8)


def demodulated_weights(kernel: jax.Array, styles: jax.Array) -> jax.Array:
  """The per-sample weights w'' [B, kh, kw, I, O] that `modulated_conv2d` applies implicitly (eqs. 1, 3)."""
  w = kernel[None] * styles[:, None, None, :, None]
  return w * demodulation_coefficients(kernel, styles)[:, None, None, None, :]


def modulated_conv2d(x: jax.Array, kernel: jax.Array, styles: jax.Array, demodulate: bool = True,
                     up: bool = False) -> jax.Array:
  """Per-sample convolution of x [B, H, W, I] with kernel * styles[b] (demodulated when asked): the input is
  scaled by the styles, convolved once with the shared kernel, and the output scaled by the demodulation
  coefficients (the reference's non-fused path; equal to a per-sample convolution with `demodulated_weights`)."""
  y = conv2d_resample(x * styles[:, None, None, :].astype(x.dtype), kernel.astype(x.dtype), up=up)
  if demodulate:
    y = y * demodulation_coefficients(kernel, styles)[:, None, None, :].astype(y.dtype)
  return y


def normalize_2nd_moment(x: jax.Array, eps: float = 1e-8) -> jax.Array:
  """x / sqrt(mean(x^2) + eps) over the last axis."""
  return x * lax.rsqrt(jnp.mean(jnp.square(x), axis=-1, keepdims=True) + eps)


def _activate(x, activation: str, gain: float = 1.0):
  if activation == "lrelu":
    return nn.leaky_relu(x, 0.2) * (_LRELU_GAIN * gain)
  return x * gain if gain != 1.0 else x


def minibatch_stddev(x: jax.Array, group_size: int | None, num_channels: int = 1) -> jax.Array:
  """Appends `num_channels` maps of the group standard deviation (Karras et al. 2018, sec. 3): the batch splits
  into groups of min(group_size, B) samples (sample i in group i mod B/G), channels into `num_channels` parts;
  per group and part the stddev over the group, averaged over channels and pixels, is broadcast as a map."""
  b, h, w, c = x.shape
  g = b if group_size is None else min(group_size, b)
  if b % g:
    raise UserError(f"minibatch stddev: batch {b} is not a multiple of the group size {g}")
  y = x.astype(jnp.float32).reshape(g, b // g, h, w, num_channels, c // num_channels)
  y = jnp.sqrt(jnp.mean(jnp.square(y - jnp.mean(y, axis=0)), axis=0) + 1e-8)  # [n, H, W, F, c]
  y = jnp.mean(y, axis=(1, 2, 4))  # [n, F]
  y = jnp.tile(y, (g, 1))[:, None, None, :]
  return jnp.concatenate([x, jnp.broadcast_to(y, (b, h, w, num_channels)).astype(x.dtype)], axis=-1)


# ---------------------------------------------------------------------------------------------------------------
# Layers with equalised learning rate.

class EqualizedDense(nn.Module):
  """Dense layer: kernel ~ N(0, 1/lr^2) used as kernel * lr / sqrt(fan_in), bias used as bias * lr."""
  features: int
  activation: str = "linear"
  lr_multiplier: float = 1.0
  bias_init: float = 0.0

  @nn.compact
  def __call__(self, x):
    kernel = self.param("kernel", nn.initializers.normal(1.0 / self.lr_multiplier), (x.shape[-1], self.features))
    bias = self.param("bias", nn.initializers.constant(self.bias_init), (self.features,))
    y = x @ (kernel * (self.lr_multiplier / np.sqrt(x.shape[-1]))) + bias * self.lr_multiplier
    return _activate(y, self.activation)


class EqualizedConv(nn.Module):
  """Conv2dLayer: kernel ~ N(0, 1) used as kernel / sqrt(k * k * C_in), optional 2x FIR up/downsampling."""
  features: int
  kernel_size: int
  activation: str = "linear"
  use_bias: bool = True
  up: bool = False
  down: bool = False

  @nn.compact
  def __call__(self, x, gain: float = 1.0):
    k = self.kernel_size
    kernel = self.param("kernel", nn.initializers.normal(1.0), (k, k, x.shape[-1], self.features))
    y = conv2d_resample(x, kernel / np.sqrt(k * k * x.shape[-1]), up=self.up, down=self.down)
    if self.use_bias:
      y = y + self.param("bias", nn.initializers.zeros, (self.features,))
    return _activate(y, self.activation, gain)


# ---------------------------------------------------------------------------------------------------------------
# Generator.

class MappingNetwork(nn.Module):
  """z [B, z_dim] (and one-hot labels c [B, K]) -> w [B, w_dim]; tracks w_avg when `w_avg_beta` is set."""
  w_dim: int = 512
  num_layers: int = 8
  lr_multiplier: float = 0.01
  w_avg_beta: float | None = 0.995

  @nn.compact
  def __call__(self, z, c=None, train: bool = False, update_w_avg: bool = True):
    parts = []
    if z is not None:
      parts.append(normalize_2nd_moment(z.astype(jnp.float32)))
    if c is not None:
      parts.append(normalize_2nd_moment(EqualizedDense(self.w_dim, name="embed")(c.astype(jnp.float32))))
    x = jnp.concatenate(parts, axis=-1)
    for i in range(self.num_layers):
      x = EqualizedDense(self.w_dim, "lrelu", self.lr_multiplier, name=f"fc{i}")(x)
    if self.w_avg_beta is not None:
      w_avg = self.variable("batch_stats", "w_avg", jnp.zeros, (self.w_dim,))
      if train and update_w_avg:  # w_avg <- lerp(mean(w), w_avg, beta)
        mean = jnp.mean(lax.stop_gradient(x), axis=0)
        w_avg.value = mean + self.w_avg_beta * (w_avg.value - mean)
    return x

  def w_avg(self):
    return self.get_variable("batch_stats", "w_avg")


def truncate(ws: jax.Array, w_avg: jax.Array, psi: float, cutoff: int | None = None) -> jax.Array:
  """The truncation trick in W (Karras et al. 2019, sec. 3.2): w_avg + psi (w - w_avg) on the first `cutoff`
  of the ws [B, num_ws, w_dim] (all when None)."""
  truncated = w_avg + psi * (ws - w_avg)
  if cutoff is None:
    return truncated
  return jnp.where((jnp.arange(ws.shape[1]) < cutoff)[None, :, None], truncated, ws)


def mix_styles(ws: jax.Array, ws2: jax.Array, crossover) -> jax.Array:
  """Style mixing (Karras et al. 2019, sec. 3.1): layers < crossover take ws, layers >= crossover take ws2.
  `crossover` may be a traced integer (num_ws means no mixing)."""
  return jnp.where((jnp.arange(ws.shape[1]) >= crossover)[None, :, None], ws2, ws)


class SynthesisLayer(nn.Module):
  """Modulated (and demodulated) 3x3 convolution, noise, bias, leaky ReLU."""
  features: int
  up: bool = False
  use_noise: bool = True

  @nn.compact
  def __call__(self, x, w, noise_mode: str = "random"):
    styles = EqualizedDense(x.shape[-1], bias_init=1.0, name="affine")(w)
    kernel = self.param("kernel", nn.initializers.normal(1.0), (3, 3, x.shape[-1], self.features))
    x = modulated_conv2d(x, kernel, styles, demodulate=True, up=self.up)
    if self.use_noise:
      strength = self.param("noise_strength", nn.initializers.zeros, ())
      if noise_mode == "random" and not self.is_initializing():
        if not self.has_rng("noise"):
          raise UserError("stylegan2: noise_mode='random' needs rngs={'noise': key} (or noise_mode='none')")
        x = x + jax.random.normal(self.make_rng("noise"), (*x.shape[:3], 1), x.dtype) * strength
    x = x + self.param("bias", nn.initializers.zeros, (self.features,))
    return _activate(x, "lrelu")


class ToRGB(nn.Module):
  """Modulated 1x1 convolution without demodulation, plus bias (linear)."""
  channels: int

  @nn.compact
  def __call__(self, x, w):
    styles = EqualizedDense(x.shape[-1], bias_init=1.0, name="affine")(w) / np.sqrt(x.shape[-1])
    kernel = self.param("kernel", nn.initializers.normal(1.0), (1, 1, x.shape[-1], self.channels))
    return modulated_conv2d(x, kernel, styles, demodulate=False) + self.param("bias", nn.initializers.zeros,
                                                                              (self.channels,))


def channels_at(resolution: int, channel_base: int, channel_max: int) -> int:
  """Feature maps at a resolution: min(channel_base // resolution, channel_max)."""
  return min(channel_base // resolution, channel_max)


def check_resolution(resolution: int) -> int:
  """log2 of a power-of-two resolution >= 4 (a UserError otherwise)."""
  if resolution < 4 or resolution & (resolution - 1):
    raise UserError(f"stylegan2 needs square images whose size is a power of two >= 4, got {resolution}")
  return int(np.log2(resolution))


def num_ws(resolution: int) -> int:
  """Number of w's the synthesis network takes: two per block (one at 4x4) plus the last toRGB's."""
  return 2 * (check_resolution(resolution) - 2) + 2


class SynthesisNetwork(nn.Module):
  """ws [B, num_ws, w_dim] -> images [B, S, S, C] (skip architecture: upsampled toRGB outputs summed)."""
  resolution: int = 1024
  channels: int = 3
  channel_base: int = 32768
  channel_max: int = 512

  @nn.compact
  def __call__(self, ws, noise_mode: str = "random"):
    log2 = check_resolution(self.resolution)
    if ws.shape[1] != num_ws(self.resolution):
      raise UserError(f"stylegan2 synthesis at {self.resolution} px takes {num_ws(self.resolution)} ws, "
                      f"got {ws.shape[1]}")
    x = img = None
    for i, res in enumerate(2 ** r for r in range(2, log2 + 1)):
      features = channels_at(res, self.channel_base, self.channel_max)
      w_conv0, w_conv1, w_rgb = (ws[:, 0], ws[:, 0], ws[:, 1]) if i == 0 else (
          ws[:, 2 * i - 1], ws[:, 2 * i], ws[:, 2 * i + 1])
      if i == 0:
        const = self.param(f"b{res}_const", nn.initializers.normal(1.0), (4, 4, features))
        x = jnp.broadcast_to(const, (ws.shape[0], *const.shape))
      else:
        x = SynthesisLayer(features, up=True, name=f"b{res}_conv0")(x, w_conv0, noise_mode)
      x = SynthesisLayer(features, name=f"b{res}_conv1")(x, w_conv1, noise_mode)
      y = ToRGB(self.channels, name=f"b{res}_torgb")(x, w_rgb)
      img = y if img is None else upsample2d(img) + y
    return img


class Generator(nn.Module):
  """z [B, z_dim] (and one-hot labels [B, K]) -> images [B, S, S, C] (unbounded, roughly [-1, 1]).

  `apply(v, z, cond, train=..., truncation_psi=1, truncation_cutoff=None, mixing_z=None, crossover=None,
  noise_mode='random', rngs={'noise': key})`; training updates w_avg (mutable 'batch_stats'). The pieces:
  `method='map'` (z -> ws [B, num_ws, w_dim]) and `method='synthesize'` (ws -> images), e.g. for the path
  length penalty.
  """
  resolution: int = 1024
  channels: int = 3
  z_dim: int = 512
  w_dim: int = 512
  mapping_layers: int = 8
  channel_base: int = 32768
  channel_max: int = 512
  w_avg_beta: float = 0.995

  def setup(self):
    self.mapping = MappingNetwork(self.w_dim, self.mapping_layers, w_avg_beta=self.w_avg_beta)
    self.synthesis = SynthesisNetwork(self.resolution, self.channels, self.channel_base, self.channel_max)

  @property
  def num_ws(self) -> int:
    return num_ws(self.resolution)

  def map(self, z, cond=None, train: bool = False, truncation_psi: float = 1.0, truncation_cutoff=None,
          mixing_z=None, crossover=None):
    """z -> ws [B, num_ws, w_dim]: broadcast w, style mixing with `mixing_z`'s w from layer `crossover` on
    (which does not update w_avg), then truncation."""
    ws = jnp.repeat(self.mapping(z, cond, train)[:, None], self.num_ws, axis=1)
    if mixing_z is not None:
      ws2 = jnp.repeat(self.mapping(mixing_z, cond, train, update_w_avg=False)[:, None], self.num_ws, axis=1)
      ws = mix_styles(ws, ws2, self.num_ws if crossover is None else crossover)
    if truncation_psi != 1:
      ws = truncate(ws, self.mapping.w_avg(), truncation_psi, truncation_cutoff)
    return ws

  def synthesize(self, ws, noise_mode: str = "random"):
    return self.synthesis(ws, noise_mode)

  def __call__(self, z, cond=None, train: bool = True, noise_mode: str = "random", **map_kwargs):
    return self.synthesize(self.map(z, cond, train, **map_kwargs), noise_mode)


# ---------------------------------------------------------------------------------------------------------------
# Discriminator.

class DiscriminatorBlock(nn.Module):
  """fromRGB (first block, or every block in 'skip'), conv 3x3, conv 3x3 with 2x downsampling; 'resnet' adds
  a 1x1 downsampling skip, both paths scaled by sqrt(1/2)."""
  tmp_channels: int
  out_channels: int
  first: bool
  architecture: str = "resnet"

  @nn.compact
  def __call__(self, x, img):
    if self.first or self.architecture == "skip":
      y = EqualizedConv(self.tmp_channels, 1, "lrelu", name="fromrgb")(img)
      x = y if x is None else x + y
      img = downsample2d(img) if self.architecture == "skip" else None
    if self.architecture == "resnet":
      y = EqualizedConv(self.out_channels, 1, use_bias=False, down=True, name="skip")(x, gain=np.sqrt(0.5))
      x = EqualizedConv(self.tmp_channels, 3, "lrelu", name="conv0")(x)
      x = EqualizedConv(self.out_channels, 3, "lrelu", down=True, name="conv1")(x, gain=np.sqrt(0.5))
      return y + x, img
    x = EqualizedConv(self.tmp_channels, 3, "lrelu", name="conv0")(x)
    return EqualizedConv(self.out_channels, 3, "lrelu", down=True, name="conv1")(x), img


ARCHITECTURES_D = ("resnet", "skip", "orig")


class Discriminator(nn.Module):
  """images [B, S, S, C] (and one-hot labels [B, K]) -> logits [B]."""
  architecture: str = "resnet"
  channel_base: int = 32768
  channel_max: int = 512
  mbstd_group_size: int | None = 4
  mbstd_num_channels: int = 1

  @nn.compact
  def __call__(self, x, cond=None, train: bool = True):
    if self.architecture not in ARCHITECTURES_D:
      raise UserError(f"stylegan2 discriminator architecture must be one of {ARCHITECTURES_D}, "
                      f"got {self.architecture!r}")
    if x.shape[1] != x.shape[2]:
      raise UserError(f"stylegan2 needs square images, got {x.shape[1:3]}")
    log2 = check_resolution(x.shape[1])
    ch = lambda res: channels_at(res, self.channel_base, self.channel_max)
    img, h = x.astype(jnp.float32), None
    for res in (2 ** r for r in range(log2, 2, -1)):
      h, img = DiscriminatorBlock(ch(res), ch(res // 2), res == x.shape[1], self.architecture, name=f"b{res}")(
          h, img)
    c4 = ch(4)
    if self.architecture == "skip":
      h = h + EqualizedConv(c4, 1, "lrelu", name="b4_fromrgb")(img)
    if self.mbstd_num_channels > 0:
      h = minibatch_stddev(h, self.mbstd_group_size, self.mbstd_num_channels)
    h = EqualizedConv(c4, 3, "lrelu", name="b4_conv")(h)
    h = EqualizedDense(c4, "lrelu", name="b4_fc")(h.reshape(h.shape[0], -1))
    if cond is None:
      return EqualizedDense(1, name="b4_out")(h)[:, 0]
    cmap = MappingNetwork(c4, 8, w_avg_beta=None, name="mapping")(None, cond, train)  # cmap_dim = channels at 4
    out = EqualizedDense(c4, name="b4_out")(h)
    return jnp.sum(out * cmap, axis=-1) / np.sqrt(c4)


# ---------------------------------------------------------------------------------------------------------------
# Lazy regularisers.

def path_length_penalty(synthesize: Callable[[jax.Array], jax.Array], ws: jax.Array, key: jax.Array,
                        pl_mean: jax.Array, decay: float = 0.01) -> tuple[jax.Array, jax.Array]:
  """Path length regularisation (sec. 3.2): E[(||J_w^T y||_2 - a)^2], y ~ N(0, I) / sqrt(H W).

  `synthesize(ws)` maps ws [B, num_ws, w_dim] to images [B, H, W, C] (closed over G's variables and noise).
  ||J_w^T y|| is taken per sample as sqrt(mean over the num_ws of the squared norms), as the reference does;
  a = lerp(pl_mean, mean length, decay). Returns (penalty, new pl_mean); the penalty differentiates through a
  (as the reference's), the returned mean does not. The reference applies it lazily (every 4 G steps, sec. 3.1)
  on half the batch (pl_batch_shrink 2) with weight 2; that is the caller's.
  """
  images, vjp = jax.vjp(synthesize, ws)
  h, w = images.shape[1:3]
  y = jax.random.normal(key, images.shape, images.dtype) / np.sqrt(h * w)
  (grads,) = vjp(y)
  lengths = jnp.sqrt(jnp.mean(jnp.sum(jnp.square(grads.astype(jnp.float32)), axis=2), axis=1))
  mean = pl_mean + decay * (jnp.mean(lengths) - pl_mean)
  return jnp.mean(jnp.square(lengths - mean)), lax.stop_gradient(mean)


# ---------------------------------------------------------------------------------------------------------------
# Registration.

def _options(image_size, map=8, fmaps=1.0, cmax=512, mbstd=4, architecture="resnet", z_dim=512, w_dim=512):
  if architecture not in ARCHITECTURES_D:
    raise UserError(f"stylegan2 architecture must be one of {ARCHITECTURES_D}, got {architecture!r}")
  if int(map) < 1 or float(fmaps) <= 0 or int(cmax) < 1:
    raise UserError(f"stylegan2 needs map >= 1, fmaps > 0 and cmax >= 1, got {map}, {fmaps}, {cmax}")
  check_resolution(image_size)
  base = int(float(fmaps) * 32768)
  generator = Generator(image_size, z_dim=int(z_dim), w_dim=int(w_dim), mapping_layers=int(map),
                        channel_base=base, channel_max=int(cmax))
  discriminator = Discriminator(architecture, base, int(cmax), None if mbstd is None else int(mbstd))
  return generator, discriminator


@ARCHITECTURES.register("stylegan2")
def build(model_config, data_shape: tuple[int, ...], d_heads: dict):
  """`model_config`: train.py's `map`, `fmaps`, `cmax`, `mbstd`, `architecture` (D), and `z_dim`, `w_dim`.
  D has only its adversarial output (labels condition it by projection)."""
  if len(data_shape) != 3 or data_shape[0] != data_shape[1]:
    raise UserError(f"stylegan2 needs square images [S, S, C], got data of shape {data_shape}")
  extra = {k: v for k, v in d_heads.items() if v and k != "adv"}
  if extra:
    raise UserError(f"stylegan2's discriminator has no {', '.join(sorted(extra))} head")
  keys = ("map", "fmaps", "cmax", "mbstd", "architecture", "z_dim", "w_dim")
  g, d = _options(data_shape[0], **{k: model_config[k] for k in keys if k in model_config})
  return g.clone(channels=data_shape[2]), d


@summary.FAMILIES.register("stylegan2")
def counts(image_size: int, channels: int, num_classes: int, map: int = 8, fmaps: float = 1.0, cmax: int = 512,
           mbstd: int = 4, architecture: str = "resnet", z_dim: int = 512, w_dim: int = 512) -> dict:
  """Parameters of G and D; defaults are stylegan2-ada's `--cfg=stylegan2` (channel_base = fmaps * 32768)."""
  g, d = _options(image_size, map, fmaps, cmax, mbstd, architecture, z_dim, w_dim)
  g = g.clone(channels=channels)
  cond = jax.ShapeDtypeStruct((1, num_classes), jnp.float32) if num_classes else None
  z = jax.ShapeDtypeStruct((1, int(z_dim)), jnp.float32)
  x = jax.ShapeDtypeStruct((1, image_size, image_size, channels), jnp.float32)
  return {"generator": summary.param_count(g, z, cond, train=False),
          "discriminator": summary.param_count(d, x, cond, train=False)}
