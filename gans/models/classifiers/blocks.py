"""Building blocks shared by the classifier families: argument checks, initialisers, PyTorch-style
pooling, conv-BatchNorm units, the ResNet-style stem and the classifier heads.

Only what more than one family uses lives here; a family's own blocks stay in its module. The
modules name their children "conv" and "bn" and the heads name their Dense layers as the caller
asks, so every family keeps the parameter tree of its reference implementation.
"""
import numbers
from typing import Any, Callable, Optional

import flax.linen as nn
import jax.numpy as jnp
import numpy as np

from gans.errors import UserError
from gans.models.layers import batch_norm, conv_general_dilated

# PyTorch's default conv/linear weight init (kaiming_uniform_, a=sqrt(5)): U(+-1/sqrt(fan_in)).
torch_default_init = nn.initializers.variance_scaling(1.0 / 3.0, "fan_in", "uniform")
# torchvision's conv init for ResNet, VGG and MobileNet v2: kaiming_normal_(mode="fan_out").
kaiming_fan_out_init = nn.initializers.variance_scaling(2.0, "fan_out", "normal")


# ---------------------------------------------------------------------------------------------
# Argument checks
# ---------------------------------------------------------------------------------------------
def check_args(x: jnp.ndarray) -> None:
  """Raises UserError unless `x` is a batch of NHWC images."""
  if x.ndim != 4:
    raise UserError(f"expected NHWC images [batch, height, width, channels], got shape {x.shape}")


def check_config(num_classes: int, **positive: float) -> None:
  """Raises UserError for a non-positive class count or any non-positive named value."""
  if not isinstance(num_classes, numbers.Integral) or num_classes < 1:
    raise UserError(f"num_classes must be a positive integer, got {num_classes!r}")
  for key, value in positive.items():
    if not value > 0:
      raise UserError(f"{key} must be positive, got {value!r}")


def check_rate(name: str, value: float) -> None:
  """Raises UserError unless 0 <= value < 1 (a dropout rate)."""
  if not 0 <= value < 1:
    raise UserError(f"{name} must be in [0, 1), got {value!r}")


# ---------------------------------------------------------------------------------------------
# PyTorch-style pooling
# ---------------------------------------------------------------------------------------------
def _pool_padding(size: int, window: int, stride: int, padding: int, ceil_mode: bool):
  """(low, high) padding that gives PyTorch's pooled size for one spatial dimension."""
  span = size + 2 * padding - window
  out = (-(-span // stride) if ceil_mode else span // stride) + 1
  if ceil_mode and (out - 1) * stride >= size + padding:  # the last window must start in the input
    out -= 1
  return padding, max(0, (out - 1) * stride + window - size - padding)


def max_pool(x: jnp.ndarray, window: int, stride: int, padding: int = 0,
             ceil_mode: bool = False) -> jnp.ndarray:
  """`torch.nn.MaxPool2d(window, stride, padding, ceil_mode=...)` on NHWC (pads with -inf)."""
  pads = tuple(_pool_padding(n, window, stride, padding, ceil_mode) for n in x.shape[1:3])
  return nn.max_pool(x, (window, window), (stride, stride), padding=pads)


def _adaptive_matrix(size: int, out: int) -> np.ndarray:
  """[out, size] averaging weights of torch's adaptive pooling (cell i: floor(i*n/o) .. ceil)."""
  m = np.zeros((out, size), np.float32)
  for i in range(out):
    lo, hi = (i * size) // out, -(-((i + 1) * size) // out)
    m[i, lo:hi] = 1.0 / (hi - lo)
  return m


def adaptive_avg_pool(x: jnp.ndarray, out: int) -> jnp.ndarray:
  """`torch.nn.AdaptiveAvgPool2d(out)` on NHWC images: [B, H, W, C] -> [B, out, out, C]."""
  if x.shape[1:3] == (out, out):
    return x
  mh = jnp.asarray(_adaptive_matrix(x.shape[1], out), x.dtype)
  mw = jnp.asarray(_adaptive_matrix(x.shape[2], out), x.dtype)
  return jnp.einsum("ih,jw,bhwc->bijc", mh, mw, x)


# ---------------------------------------------------------------------------------------------
# Conv / BatchNorm units
# ---------------------------------------------------------------------------------------------
def _pair(v: Any) -> tuple:
  return tuple(v) if isinstance(v, (tuple, list)) else (v, v)


def conv_bn(x: jnp.ndarray, train: bool, features: int, kernel: Any = 1, strides: Any = 1,
            padding: Any = None, groups: int = 1, act: Optional[Callable] = nn.relu,
            eps: float = 1e-5, zero_init: bool = False,
            kernel_init: Callable = kaiming_fan_out_init, dtype: Any = jnp.float32,
            names: tuple[str, str] = ("conv", "bn")) -> jnp.ndarray:
  """Bias-free conv -> BatchNorm -> optional activation, built in the calling compact method.

  The conv and the BatchNorm are named `names`; `ConvBN` documents the other arguments.
  """
  kernel = _pair(kernel)
  padding = tuple(k // 2 for k in kernel) if padding is None else padding
  if not isinstance(padding, str):
    padding = tuple((p, p) for p in _pair(padding))
  x = nn.Conv(features, kernel, _pair(strides), padding=padding, feature_group_count=groups,
              conv_general_dilated=conv_general_dilated, use_bias=False, kernel_init=kernel_init,
              dtype=dtype, name=names[0])(x)
  x = batch_norm(train, dtype, names[1], eps,
                 scale_init=nn.initializers.zeros if zero_init else nn.initializers.ones)(x)
  return act(x) if act is not None else x


class ConvBN(nn.Module):
  """Bias-free conv "conv" -> BatchNorm "bn" -> optional activation, as one child module.

  Attributes:
    features: output channels.
    kernel: kernel size, int or (h, w).
    strides: stride, int or (h, w).
    padding: symmetric PyTorch-style padding, int or (h, w), or a Flax string such as "SAME";
      None for k // 2 per dimension.
    groups: conv groups (`features` = input channels for a depthwise conv).
    act: activation after BN, or None.
    eps: BatchNorm epsilon (the reference's).
    zero_init: start the BN scale at 0 (Goyal et al. 2017, Sec. 5.1): the block starts as identity.
    kernel_init: conv weight initializer.
    dtype: compute dtype; parameters stay float32.
  """
  features: int
  kernel: Any = 1
  strides: Any = 1
  padding: Any = None
  groups: int = 1
  act: Optional[Callable] = nn.relu
  eps: float = 1e-5
  zero_init: bool = False
  kernel_init: Callable = kaiming_fan_out_init
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, x: jnp.ndarray, train: bool) -> jnp.ndarray:
    return conv_bn(x, train, self.features, self.kernel, self.strides, self.padding, self.groups,
                   self.act, self.eps, self.zero_init, self.kernel_init, self.dtype)


class BasicConv(ConvBN):
  """`ConvBN` with the defaults of `BasicConv2d` in torchvision's and timm's Inception models.

  No padding unless given, BatchNorm eps 1e-3 (as in the TensorFlow originals), PyTorch's default
  conv init; positional arguments (features, kernel, strides, padding) as in Inception specs.
  """
  padding: Any = 0
  eps: float = 1e-3
  kernel_init: Callable = torch_default_init


class BNReLUConv(nn.Module):
  """Pre-activation unit BatchNorm -> ReLU -> bias-free conv with padding k // 2.

  DenseNet's layers and transitions, timm DPN's `BnActConv2d` (for odd kernels timm's padding
  `(stride - 1 + k - 1) // 2` is k // 2).

  Attributes:
    features: output channels.
    kernel: square kernel size.
    strides: stride of the conv.
    groups: conv groups.
    eps: BatchNorm epsilon.
    kernel_init: conv weight initializer.
    dtype: compute dtype; parameters stay float32.
  """
  features: int
  kernel: int = 1
  strides: int = 1
  groups: int = 1
  eps: float = 1e-5
  kernel_init: Callable = torch_default_init
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, x: jnp.ndarray, train: bool) -> jnp.ndarray:
    x = nn.relu(batch_norm(train, self.dtype, "bn", self.eps)(x))
    pad = self.kernel // 2
    return nn.Conv(self.features, (self.kernel, self.kernel), (self.strides, self.strides),
                   padding=((pad, pad), (pad, pad)), feature_group_count=self.groups,
                   conv_general_dilated=conv_general_dilated,
                   use_bias=False, kernel_init=self.kernel_init, dtype=self.dtype, name="conv")(x)


def stem(x: jnp.ndarray, features: int, kernel: int, small_inputs: bool, train: bool, dtype: Any,
         names: Optional[tuple[str, str]] = None, **kwargs) -> jnp.ndarray:
  """The ImageNet stem of ResNet, ShuffleNet, DenseNet and DPN, or the CIFAR stem.

  k x k stride-2 conv-BN-ReLU then a 3x3 stride-2 max-pool with padding 1; with `small_inputs` one
  3x3 stride-1 conv-BN-ReLU and no pool (kuangliu/pytorch-cifar). Call inside a compact method.

  Args:
    names: (conv, BN) names to build them directly in the calling module (DenseNet, DPN); None for
      one `ConvBN` child named "stem" (ResNet, ShuffleNet).
    **kwargs: more `conv_bn` arguments (eps, kernel_init).
  """
  kernel, strides = (3, 1) if small_inputs else (kernel, 2)
  if names is None:
    x = ConvBN(features, kernel, strides, dtype=dtype, name="stem", **kwargs)(x, train)
  else:
    x = conv_bn(x, train, features, kernel, strides, dtype=dtype, names=names, **kwargs)
  return x if small_inputs else max_pool(x, 3, 2, 1)


# ---------------------------------------------------------------------------------------------
# Classifier heads (call inside a compact method; both return float32 logits)
# ---------------------------------------------------------------------------------------------
def classifier_head(x: jnp.ndarray, num_classes: int, train: bool, dtype: Any,
                    dropout: float = 0.0, kernel_init: Callable = torch_default_init,
                    name: str = "fc") -> jnp.ndarray:
  """Global average pool -> dropout -> Dense with bias (named `name`)."""
  x = jnp.mean(x, axis=(1, 2))
  if dropout > 0:
    x = nn.Dropout(dropout, deterministic=not train)(x)
  x = nn.Dense(num_classes, kernel_init=kernel_init, dtype=dtype, name=name)(x)
  return jnp.asarray(x, jnp.float32)


def fc_head(x: jnp.ndarray, num_classes: int, train: bool, dtype: Any, kernel_init: Callable,
            hidden: int = 4096, dropout: float = 0.5, dropout_first: bool = True) -> jnp.ndarray:
  """Flatten -> fc6 -> ReLU -> fc7 -> ReLU -> fc8, with dropout on fc6/fc7 inputs or outputs.

  The Dense layers are named "fc6", "fc7", "fc8". `dropout_first`: torchvision AlexNet drops the
  inputs of fc6 and fc7, VGG and Caffe the outputs of fc6 and fc7.
  """
  x = x.reshape(x.shape[0], -1)
  drop = nn.Dropout(dropout, deterministic=not train)
  for name in ("fc6", "fc7"):
    if dropout_first:
      x = drop(x)
    x = nn.relu(nn.Dense(hidden, kernel_init=kernel_init, dtype=dtype, name=name)(x))
    if not dropout_first:
      x = drop(x)
  x = nn.Dense(num_classes, kernel_init=kernel_init, dtype=dtype, name="fc8")(x)
  return jnp.asarray(x, jnp.float32)
