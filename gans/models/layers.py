"""Layers shared by the model families.

`conv_transpose` / `ConvTranspose`: a transposed convolution equal to `jax.lax.conv_transpose` (a
drop-in for `flax.linen.ConvTranspose`) whose forward and backward passes use only stride-1 or
strided forward convolutions and matmuls. XLA:CPU runs those near matmul speed, but its own kernel
gradient of a strided transposed convolution takes a slow single-threaded path: with `lax.conv_transpose`
in G, the DCGAN 64x64 train step is about 4x slower (docs/performance.md).

Notation, per spatial axis: input size n, kernel size k, stride s, and (lo, hi) the padding of the
equivalent input-dilated convolution (what `jax.lax.conv_transpose` passes to XLA). Then

  y[o] = sum_i x[i] K[s*i + lo - o],   0 <= o < (n - 1)*s + lo + hi - k + 2.

- forward: for output phase r (o = s*q + r) only the taps K[s*t + b] with b = (lo - r) mod s touch
  x, so y[s*q + r] is a stride-1 convolution of x with that sub-kernel, and y interleaves the s*s
  phase outputs (sub-pixel convolution, Shi et al. 2016, sec. 2.2); no inserted zeros are convolved.
- input gradient: dx[i] = sum_m gp[s*i + m] K[k-1-m] with gp = g padded by (k-1-lo, k-1-hi): one
  strided convolution of g with the spatially flipped kernel.
- kernel gradient: dK[k-1-m] = sum_{batch, i} x[i] gp[s*i + m]: one matmul per tap m that contracts
  over batch and space (faster on XLA:CPU than its kernel-gradient convolution or an im2col copy).

`conv_general_dilated`: `lax.conv_general_dilated` for flax's `nn.Conv(conv_general_dilated=...)`; a
strided 2-D NHWC convolution gets a custom VJP whose input gradient (a transposed convolution, which
XLA:CPU runs as a zero-inserting base-dilated convolution) is the sub-pixel `_forward` above instead:
used when the stride divides a larger kernel (DCGAN's 4x4 stride 2: the 64x64 step ran ~10% faster;
docs/performance.md). Its kernel gradient stays XLA's own. Everything else (stride 1, 3x3 or 1x1
stride 2, dilation, groups, other layouts) goes to lax unchanged, except depthwise convolutions
(groups = input channels = output channels, MobileNet / Xception / NASNet / ShuffleNet): those are a
sum over the kernel taps of strided slices of the padded input times the tap's per-channel weights
(`depthwise_conv`), elementwise work XLA fuses, where its grouped convolution ran 1.5-2.7x slower
(fwd + bwd, 3x3 on 7x7 to 14x14 maps, batch 128). An unpadded conv whose kernel covers its whole input
(LeNet-5's C5) is one matmul (`whole_input_conv`).

`batch_norm`: the BatchNorm of every model family (PyTorch's defaults and two-pass variance).
"""

import functools
from typing import Any, Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp
from flax.linen.dtypes import promote_dtype
from flax.linen.linear import canonicalize_padding
from jax import lax

from gans.errors import UserError


def batch_norm(train: bool, dtype: Any, name: str | None = None, eps: float = 1e-5, momentum: float = 0.9,
               **kwargs) -> nn.BatchNorm:
  """BatchNorm on batch statistics when training, running ones otherwise.

  Flax momentum 0.9 is PyTorch's momentum 0.1; `kwargs` go to `nn.BatchNorm` (e.g. `scale_init`).
  The variance is two-pass, E[(x - E x)^2] as PyTorch computes it: flax's default E[x^2] - (E x)^2 cancels
  catastrophically on channels whose mean dwarfs their spread (small late feature maps), which made a
  ResNet-20 step on 4 devices differ from one device by 1e-2 (tests/device_equality_worker.py).
  Call inside a compact method; `name` None takes flax's automatic name.
  """
  return nn.BatchNorm(use_running_average=not train, momentum=momentum, epsilon=eps, dtype=dtype,
                      use_fast_variance=False, name=name, **kwargs)

_DN = ('NHWC', 'HWIO', 'NHWC')
Padding = str | Sequence[tuple[int, int]]
Pads = tuple[tuple[int, int], tuple[int, int]]


class VirtualBatchNorm(nn.Module):
  """Virtual batch normalisation (Salimans et al. 2016, sec. 3.4), for a generator.

  The first `reference_size` examples of every batch are a fixed reference batch (the caller puts them
  there): they are normalised with the reference batch's own statistics, and every other example with those
  statistics combined with its own (weights N/(N+1) and 1/(N+1), as in the authors' code), so an example's
  output never depends on the other examples it is batched with. Statistics are per channel over the batch
  and spatial axes; learned scale and offset per channel; nothing kept between calls.
  """
  reference_size: int
  epsilon: float = 1e-5
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, x):
    c = x.shape[-1]
    scale = self.param("scale", nn.initializers.ones, (c,))
    bias = self.param("bias", nn.initializers.zeros, (c,))
    n = min(self.reference_size, x.shape[0])  # a batch of fewer rows (init) is all reference
    xf = x.astype(jnp.float32)
    ref_mean = jnp.mean(xf[:n], axis=tuple(range(x.ndim - 1)))
    ref_sq = jnp.mean(jnp.square(xf[:n]), axis=tuple(range(x.ndim - 1)))
    spatial = tuple(range(1, x.ndim - 1))
    own_mean, own_sq = jnp.mean(xf, axis=spatial, keepdims=True), jnp.mean(jnp.square(xf), axis=spatial, keepdims=True)
    w = 1.0 / (n + 1)
    is_ref = (jnp.arange(x.shape[0]) < n).reshape(-1, *([1] * (x.ndim - 1)))
    mean = jnp.where(is_ref, ref_mean, w * own_mean + (1 - w) * ref_mean)
    var = jnp.maximum(jnp.where(is_ref, ref_sq, w * own_sq + (1 - w) * ref_sq) - jnp.square(mean), 0.0)
    y = (xf - mean) * jax.lax.rsqrt(var + self.epsilon) * scale + bias
    return y.astype(self.dtype)


def _pair(v: int | Sequence[int], name: str) -> tuple[int, int]:
  """An int or a sequence of two positive ints, as a pair."""
  t = (v, v) if isinstance(v, int) else tuple(v)
  if len(t) != 2 or not all(isinstance(e, int) and e > 0 for e in t):
    raise UserError(f'{name} must be a positive int or two positive ints, got {v!r}')
  return t


def _dilated_pads(kernel_size: tuple[int, int], strides: tuple[int, int],
                  padding: Padding) -> Pads:
  """Padding of the input-dilated convolution, as `jax.lax.conv_transpose` computes it."""
  if isinstance(padding, str):
    if padding not in ('SAME', 'VALID'):
      raise UserError(f"padding must be 'SAME', 'VALID' or (low, high) pairs, got {padding!r}")
    pads = []
    for k, s in zip(kernel_size, strides):
      if padding == 'SAME':
        total, lo = k + s - 2, (k - 1 if s > k - 1 else -(-(k + s - 2) // 2))
      else:
        total, lo = k + s - 2 + max(k - s, 0), k - 1
      pads.append((lo, total - lo))
    return tuple(pads)
  try:
    pads = tuple((int(lo), int(hi)) for lo, hi in padding)
  except (TypeError, ValueError):
    raise UserError(f'padding must be SAME, VALID or (low, high) pairs, got {padding!r}') from None
  if len(pads) != 2:
    raise UserError(f'padding needs one (low, high) pair per spatial axis, got {padding!r}')
  return pads


def _out_size(n: int, k: int, s: int, pad: tuple[int, int]) -> int:
  return (n - 1) * s + pad[0] + pad[1] - k + 2


def _conv(x, kernel, strides, pads, precision):
  """Forward convolution with (low, high) paddings that may be negative (negative = crop)."""
  crop = [(0, 0, 0)] + [(min(lo, 0), min(hi, 0), 0) for lo, hi in pads] + [(0, 0, 0)]
  if any(c[0] or c[1] for c in crop):
    x = lax.pad(x, jnp.zeros((), x.dtype), crop)
  return lax.conv_general_dilated(x, kernel, strides, [(max(lo, 0), max(hi, 0)) for lo, hi in pads],
                                  dimension_numbers=_DN, precision=precision)


def _forward(x, kernel, strides, pads, precision):
  """Sub-pixel form: s*s stride-1 convolutions (one per output phase), interleaved."""
  n, size = x.shape[0], x.shape[1:3]
  kh, kw, _, cout = kernel.shape
  out = [_out_size(*a) for a in zip(size, (kh, kw), strides, pads)]
  rows = [-(-o // s) for o, s in zip(out, strides)]  # outputs per phase, before the final crop
  phases = []
  for rh in range(strides[0]):
    for rw in range(strides[1]):
      first, offset, taps = [], [], []
      for r, k, s, (lo, _) in zip((rh, rw), (kh, kw), strides, pads):
        first.append((lo - r) % s)  # kernel taps K[s*t + first] feed output phase r ...
        offset.append((lo - r) // s)  # ... from x[q - offset + t]
        taps.append(max(0, -(-(k - first[-1]) // s)))
      if 0 in taps:  # stride > kernel: this phase sees no tap
        phases.append(jnp.zeros((n, rows[0], rows[1], cout), x.dtype))
        continue
      sub = kernel[first[0]::strides[0], first[1]::strides[1]]
      phase_pads = [(a, q - m - a + t - 1) for a, q, m, t in zip(offset, rows, size, taps)]
      phases.append(_conv(x, sub, (1, 1), phase_pads, precision))
  y = jnp.stack(phases, axis=3).reshape(n, rows[0], rows[1], strides[0], strides[1], cout)
  y = y.transpose(0, 1, 3, 2, 4, 5).reshape(n, rows[0] * strides[0], rows[1] * strides[1], cout)
  return y[:, :out[0], :out[1]]


@functools.partial(jax.custom_vjp, nondiff_argnums=(2, 3, 4))
def _conv_transpose(x, kernel, strides, pads, precision):
  return _forward(x, kernel, strides, pads, precision)


def _conv_transpose_fwd(x, kernel, strides, pads, precision):
  return _forward(x, kernel, strides, pads, precision), (x, kernel)


def _conv_transpose_bwd(strides, pads, precision, res, g):
  x, kernel = res
  kh, kw, cin, cout = kernel.shape
  grad_pads = [(k - 1 - lo, k - 1 - hi) for k, (lo, hi) in zip((kh, kw), pads)]
  # Input gradient: strided forward conv of g with the flipped kernel (in/out channels swapped).
  flipped = jnp.swapaxes(kernel[::-1, ::-1], 2, 3)
  dx = _conv(g, flipped, strides, grad_pads, precision).astype(x.dtype)
  # Kernel gradient: one [cout, batch*space] x [batch*space, cin] matmul per tap.
  gp = lax.pad(g, jnp.zeros((), g.dtype), [(0, 0, 0)] + [(lo, hi, 0) for lo, hi in grad_pads]
               + [(0, 0, 0)])
  n, h, w = x.shape[:3]
  x2 = x.reshape(-1, cin)
  taps = []
  for m in range(kh):
    for l in range(kw):
      gm = lax.slice(gp, (0, m, l, 0), (n, m + strides[0] * (h - 1) + 1,
                                        l + strides[1] * (w - 1) + 1, cout), (1, *strides, 1))
      taps.append(lax.dot_general(gm.reshape(-1, cout), x2, (((0,), (0,)), ((), ())),
                                  precision=precision, preferred_element_type=jnp.float32))
  dk = jnp.stack(taps).reshape(kh, kw, cout, cin).transpose(0, 1, 3, 2)[::-1, ::-1]
  return dx, dk.astype(kernel.dtype)


_conv_transpose.defvjp(_conv_transpose_fwd, _conv_transpose_bwd)


def conv_transpose(x: jax.Array, kernel: jax.Array, strides: int | Sequence[int],
                   padding: Padding, precision: lax.PrecisionLike = None) -> jax.Array:
  """Transposed 2-D convolution, equal to `jax.lax.conv_transpose` in NHWC/HWIO, fast on XLA:CPU.

  Args:
    x: [batch, height, width, in_features].
    kernel: [kh, kw, in_features, out_features], laid out as `flax.linen.ConvTranspose`'s kernel
      with `transpose_kernel=False` (not flipped); same dtype as `x`.
    strides: an int or two ints.
    padding: 'SAME', 'VALID' (meaning the padding of the matching forward convolution), or two
      (low, high) pairs giving the padding of the input-dilated convolution (as in
      `lax.conv_transpose`).
    precision: passed to the convolutions and matmuls.

  Returns:
    [batch, out_height, out_width, out_features]; 'SAME' gives out = in * stride.
  """
  if x.ndim != 4 or kernel.ndim != 4:
    raise UserError(f'conv_transpose needs NHWC input and HWIO kernel, got shapes {x.shape}, '
                    f'{kernel.shape}')
  if x.shape[3] != kernel.shape[2]:
    raise UserError(f'input has {x.shape[3]} channels but the kernel expects {kernel.shape[2]}')
  strides = _pair(strides, 'strides')
  pads = _dilated_pads(kernel.shape[:2], strides, padding)
  out = [_out_size(*a) for a in zip(x.shape[1:3], kernel.shape[:2], strides, pads)]
  if min(out) <= 0:
    raise UserError(f'conv_transpose output would be empty ({out}) for input {x.shape[1:3]}, '
                    f'kernel {kernel.shape[:2]}, padding {padding!r}')
  return _jitted_conv_transpose(x, kernel, strides, pads, precision)


# Jitted so that eager use compiles once per shape instead of dispatching k*k small ops.
_jitted_conv_transpose = jax.jit(_conv_transpose, static_argnums=(2, 3, 4))


def _strided_conv(x, kernel, strides, pads, precision):
  return lax.conv_general_dilated(x, kernel, strides, pads, dimension_numbers=_DN, precision=precision)


@functools.partial(jax.custom_vjp, nondiff_argnums=(2, 3, 4))
def _fast_strided_conv(x, kernel, strides, pads, precision):
  return _strided_conv(x, kernel, strides, pads, precision)


def _fast_strided_conv_fwd(x, kernel, strides, pads, precision):
  return _strided_conv(x, kernel, strides, pads, precision), (x, kernel)


def _fast_strided_conv_bwd(strides, pads, precision, res, g):
  x, kernel = res
  kh, kw = kernel.shape[:2]
  # dx[i] = sum_o g[o] K[i + lo - s*o]: a transposed conv of g with the flipped kernel, input-dilated
  # padding (k-1-lo, n - (m-1)*s + lo - 1) so that dx has x's size (may be negative: a crop).
  t_pads = tuple((k - 1 - lo, n - (m - 1) * s + lo - 1)
                 for k, (lo, _), n, m, s in zip((kh, kw), pads, x.shape[1:3], g.shape[1:3], strides))
  flipped = jnp.swapaxes(kernel[::-1, ::-1], 2, 3)
  dx = _forward(g, flipped, strides, t_pads, precision)
  _, k_vjp = jax.vjp(lambda k: _strided_conv(x, k, strides, pads, precision), kernel)
  return dx.astype(x.dtype), k_vjp(g)[0]


_fast_strided_conv.defvjp(_fast_strided_conv_fwd, _fast_strided_conv_bwd)


def depthwise_conv(x: jax.Array, kernel: jax.Array, strides: tuple[int, int],
                   pads: tuple[tuple[int, int], tuple[int, int]]) -> jax.Array:
  """Depthwise NHWC conv, kernel [kh, kw, 1, C]: y = sum_taps slice(x_padded) * kernel[tap]."""
  x = jnp.pad(x, ((0, 0), *pads, (0, 0)))
  (kh, kw), (sh, sw) = kernel.shape[:2], strides
  h, w = (x.shape[1] - kh) // sh + 1, (x.shape[2] - kw) // sw + 1
  y = None
  for i in range(kh):
    for j in range(kw):
      tap = lax.slice(x, (0, i, j, 0), (x.shape[0], i + (h - 1) * sh + 1, j + (w - 1) * sw + 1, x.shape[3]),
                      (1, sh, sw, 1)) * kernel[i, j, 0]
      y = tap if y is None else y + tap
  return y


def whole_input_conv(x: jax.Array, kernel: jax.Array, precision: lax.PrecisionLike = None) -> jax.Array:
  """An unpadded NHWC conv whose kernel [kh, kw, C, F] is as large as x [B, kh, kw, C]: one matmul.

  The output is [B, 1, 1, F] (e.g. LeNet-5's C5): the flattened input times the flattened kernel,
  whose gradients are matmuls too. XLA:CPU ran the input gradient as a convolution over a
  (2k-1)^2 zero-padded map; fwd + bwd of C5 took 3.6x longer that way (batch 128, idle).
  """
  y = jnp.dot(x.reshape(x.shape[0], -1), kernel.reshape(-1, kernel.shape[-1]), precision=precision)
  return y.reshape(x.shape[0], 1, 1, kernel.shape[-1])


def conv_general_dilated(lhs: jax.Array, rhs: jax.Array, window_strides: Sequence[int],
                         padding: Padding, lhs_dilation: Sequence[int] | None = None,
                         rhs_dilation: Sequence[int] | None = None, dimension_numbers: Any = None,
                         feature_group_count: int = 1, batch_group_count: int = 1,
                         precision: lax.PrecisionLike = None,
                         preferred_element_type: Any = None) -> jax.Array:
  """`lax.conv_general_dilated`, with a faster input gradient on XLA:CPU for strided 2-D convs.

  Pass it to flax: `nn.Conv(..., conv_general_dilated=layers.conv_general_dilated)`. The value is
  the same as lax's. A 2-D NHWC/HWIO convolution without dilation or groups differentiates through
  `whole_input_conv` when its unpadded kernel covers the input, through `_fast_strided_conv` (module
  docstring) when a stride > 1 divides a larger kernel size (e.g. DCGAN's 4x4 stride 2); depthwise ones
  are `depthwise_conv`; anything else goes to lax.
  """
  args = (lhs, rhs, window_strides, padding, lhs_dilation, rhs_dilation, dimension_numbers,
          feature_group_count, batch_group_count, precision, preferred_element_type)
  nhwc = lhs.ndim == 4 and rhs.ndim == 4 and (
      lax.conv_dimension_numbers(lhs.shape, rhs.shape, dimension_numbers)
      == lax.conv_dimension_numbers(lhs.shape, rhs.shape, _DN))
  undilated = all(d == 1 for d in (lhs_dilation or (1, 1)) + tuple(rhs_dilation or (1, 1)))
  if not (nhwc and undilated and batch_group_count == 1 and preferred_element_type is None):
    return lax.conv_general_dilated(*args)
  strides = tuple(int(s) for s in window_strides)
  pads = _pads(lhs, rhs, strides, padding)
  if feature_group_count == lhs.shape[-1] == rhs.shape[-1] > 1 and rhs.shape[2] == 1:
    return depthwise_conv(lhs, rhs, strides, pads)
  if feature_group_count != 1:
    return lax.conv_general_dilated(*args)
  if lhs.shape[1:3] == rhs.shape[:2] and pads == ((0, 0), (0, 0)):
    return whole_input_conv(lhs, rhs, precision)
  # Only when every phase of the sub-pixel input gradient gets k/s > 1 taps per axis (e.g. 4x4 stride
  # 2): ResNet's 3x3 and 1x1 stride-2 convs ran 15% slower that way than with XLA's own gradient.
  if max(strides) > 1 and all(k % s == 0 and k > s for k, s in zip(rhs.shape[:2], strides)):
    return _fast_strided_conv(lhs, rhs, strides, pads, precision)
  return lax.conv_general_dilated(*args)


def _pads(lhs, rhs, strides, padding) -> tuple[tuple[int, int], ...]:
  """Explicit (lo, hi) spatial pads for a lax padding argument ('SAME', 'VALID' or pairs)."""
  if isinstance(padding, str):
    padding = lax.padtype_to_pads(lhs.shape[1:3], rhs.shape[:2], tuple(int(s) for s in strides), padding)
  return tuple((int(lo), int(hi)) for lo, hi in padding)


class ConvTranspose(nn.Module):
  """Drop-in for `flax.linen.ConvTranspose` (2-D, transpose_kernel=False) using `conv_transpose`.

  Same parameter names and shapes ('kernel' [kh, kw, in, features], 'bias' [features]). An int
  `kernel_size` means a square kernel; kernel dilation, masks and 'CIRCULAR' padding are not
  supported.
  Inputs may have any number of leading batch axes (or none), as in flax.
  """
  features: int
  kernel_size: int | Sequence[int]
  strides: int | Sequence[int] | None = None
  padding: Any = 'SAME'
  use_bias: bool = True
  dtype: Any = None
  param_dtype: Any = jnp.float32
  precision: lax.PrecisionLike = None
  kernel_init: nn.initializers.Initializer = nn.initializers.lecun_normal()
  bias_init: nn.initializers.Initializer = nn.initializers.zeros_init()

  @nn.compact
  def __call__(self, inputs: jax.Array) -> jax.Array:
    kernel_size = _pair(self.kernel_size, 'kernel_size')
    strides = _pair(1 if self.strides is None else self.strides, 'strides')
    if inputs.ndim < 3:
      raise UserError(f'ConvTranspose needs [..., height, width, channels] input, got '
                      f'{inputs.shape}')
    try:
      padding = canonicalize_padding(self.padding, 2)
    except (TypeError, ValueError) as e:
      raise UserError(f'bad ConvTranspose padding {self.padding!r}: {e}') from None
    if padding == 'CIRCULAR':
      raise UserError("ConvTranspose: 'CIRCULAR' padding is not supported; use flax.linen's")
    kernel = self.param('kernel', self.kernel_init, kernel_size + (inputs.shape[-1], self.features),
                        self.param_dtype)
    bias = (self.param('bias', self.bias_init, (self.features,), self.param_dtype)
            if self.use_bias else None)
    x = inputs.reshape((-1,) + inputs.shape[-3:])
    x, kernel, bias = promote_dtype(x, kernel, bias, dtype=self.dtype)
    y = conv_transpose(x, kernel, strides, padding, self.precision)
    if bias is not None:
      y = y + bias
    return y.reshape(inputs.shape[:-3] + y.shape[1:])
