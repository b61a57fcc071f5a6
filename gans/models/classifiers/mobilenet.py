"""MobileNet v1 and v2 classifiers with width multipliers.

MobileNet v1: Howard et al. 2017, "MobileNets: Efficient Convolutional Neural Networks for Mobile
Vision Applications" (Table 1: a 3x3 stride-2 conv then 13 depthwise-separable blocks, 3x3
depthwise conv-BN-ReLU then 1x1 conv-BN-ReLU; width multiplier alpha, Sec. 3.3). Matches Keras
`keras.applications.MobileNet` (ReLU6, BatchNorm eps 1e-3, channels `int(c * alpha)`, dropout 1e-3
before a classifier with bias) except for padding: stride-2 convs pad symmetrically (PyTorch/timm
style) where Keras pads bottom-right only. Trainable counts: 4,231,976 at width 1.0 (Keras'
trainable params), 2,585,560 at 0.75, 1,331,592 at 0.5, 470,072 at 0.25 (osmr imgclsmob
`mobilenet_w1`, `_w3d4`, `_wd2`, `_wd4`, which use the same `int(c * alpha)` channels).

MobileNet v2: Sandler et al. 2018, "MobileNetV2: Inverted Residuals and Linear Bottlenecks" (Table
2: inverted residual blocks 1x1 expand-ReLU6, 3x3 depthwise-ReLU6, linear 1x1 projection; residual
when stride 1 and shapes match). Matches torchvision `torchvision/models/mobilenetv2.py`: BatchNorm
eps 1e-5, channels rounded by `make_divisible(c * width, 8)`, a 1280-channel last conv (scaled only
for width > 1), dropout 0.2. Trainable count 3,504,872 at width 1.0 (torchvision).

`small_inputs=True` (28x28 / 32x32 images), as in kuangliu/pytorch-cifar: v1's stem conv has stride
1 (final feature map 2x2 on 32x32 instead of 1x1); v2's stem conv and its second stage (24
channels) have stride 1 (final map 4x4). Parameter counts do not change.
"""
from typing import Any

import flax.linen as nn
import jax.numpy as jnp

from gans.models.classifiers import register
from gans.models.classifiers.blocks import ConvBN, check_args, check_config, classifier_head

# Howard et al. 2017, Table 1: (output channels, stride) of the 13 depthwise-separable blocks.
_V1_BLOCKS = ((64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2),
              (512, 1), (512, 1), (512, 1), (512, 1), (512, 1), (1024, 2), (1024, 1))
# Sandler et al. 2018, Table 2: (expansion t, channels c, repeats n, stride s).
_V2_BLOCKS = ((1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1),
              (6, 160, 3, 2), (6, 320, 1, 1))


def make_divisible(value: float, divisor: int = 8) -> int:
  """Rounds `value` to the nearest multiple of `divisor`, never below 90% of it (torchvision)."""
  rounded = max(divisor, int(value + divisor / 2) // divisor * divisor)
  return rounded + divisor if rounded < 0.9 * value else rounded


class MobileNetV1(nn.Module):
  """MobileNet v1 (Howard et al. 2017, Table 1).

  Attributes:
    num_classes: number of logits.
    width: width multiplier alpha; channels are `int(c * width)` (Keras).
    dropout: dropout rate before the classifier (Keras' default 1e-3).
    small_inputs: stride-1 stem for 28x28 / 32x32 images.
    dtype: compute dtype; parameters stay float32 and the logits are float32.
  """
  num_classes: int = 1000
  width: float = 1.0
  dropout: float = 1e-3
  small_inputs: bool = False
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, x: jnp.ndarray, train: bool = False) -> jnp.ndarray:
    check_args(x)
    x = ConvBN(int(32 * self.width), 3, 1 if self.small_inputs else 2, act=nn.relu6, eps=1e-3,
               dtype=self.dtype, name="stem")(x, train)
    for i, (channels, stride) in enumerate(_V1_BLOCKS):
      x = ConvBN(x.shape[-1], 3, stride, groups=x.shape[-1], act=nn.relu6, eps=1e-3,
                 dtype=self.dtype, name=f"block{i + 1}_dw")(x, train)
      x = ConvBN(int(channels * self.width), 1, act=nn.relu6, eps=1e-3, dtype=self.dtype,
                 name=f"block{i + 1}_pw")(x, train)
    return classifier_head(x, self.num_classes, train, self.dtype, self.dropout)


class InvertedResidual(nn.Module):
  """MobileNet v2 block (Sandler et al. 2018, Table 1): expand, depthwise, linear projection."""
  features: int
  strides: int
  expansion: int
  zero_init_residual: bool = False
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, x: jnp.ndarray, train: bool) -> jnp.ndarray:
    hidden = int(round(x.shape[-1] * self.expansion))
    residual = self.strides == 1 and x.shape[-1] == self.features
    y = x
    if self.expansion != 1:
      y = ConvBN(hidden, 1, act=nn.relu6, dtype=self.dtype, name="expand")(y, train)
    y = ConvBN(hidden, 3, self.strides, groups=hidden, act=nn.relu6, dtype=self.dtype,
               name="depthwise")(y, train)
    # Linear bottleneck: no activation after the projection (Sec. 3.2).
    y = ConvBN(self.features, 1, act=None, zero_init=residual and self.zero_init_residual,
               dtype=self.dtype, name="project")(y, train)
    return x + y if residual else y


class MobileNetV2(nn.Module):
  """MobileNet v2 (Sandler et al. 2018, Table 2).

  Attributes:
    num_classes: number of logits.
    width: width multiplier; channels are `make_divisible(c * width, 8)` (torchvision).
    dropout: dropout rate before the classifier (torchvision's 0.2).
    small_inputs: stride-1 stem and second stage for 28x28 / 32x32 images.
    zero_init_residual: zero-init the projection BN of blocks with a residual connection.
    dtype: compute dtype; parameters stay float32 and the logits are float32.
  """
  num_classes: int = 1000
  width: float = 1.0
  dropout: float = 0.2
  small_inputs: bool = False
  zero_init_residual: bool = False
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, x: jnp.ndarray, train: bool = False) -> jnp.ndarray:
    check_args(x)
    x = ConvBN(make_divisible(32 * self.width), 3, 1 if self.small_inputs else 2, act=nn.relu6,
               dtype=self.dtype, name="stem")(x, train)
    for i, (t, c, n, s) in enumerate(_V2_BLOCKS):
      if self.small_inputs and i == 1:
        s = 1  # kuangliu/pytorch-cifar: "change stride 2 -> 1 for CIFAR10"
      for j in range(n):
        x = InvertedResidual(make_divisible(c * self.width), s if j == 0 else 1, t,
                             self.zero_init_residual, self.dtype,
                             name=f"stage{i + 1}_{j}")(x, train)
    x = ConvBN(make_divisible(1280 * max(1.0, self.width)), 1, act=nn.relu6, dtype=self.dtype,
               name="head")(x, train)
    return classifier_head(x, self.num_classes, train, self.dtype, self.dropout)


def _make_v1(name: str, width: float | None):
  """Registers MobileNet v1 `name`: fixed `width`, or None for a `width` argument."""

  def build(num_classes: int = 1000, small_inputs: bool = False, dtype: Any = jnp.float32,
            dropout: float = 1e-3, **kwargs) -> MobileNetV1:
    w = width if width is not None else kwargs.pop("width", 1.0)
    if kwargs:
      raise TypeError(f"{name}() got unexpected arguments {sorted(kwargs)}")
    check_config(num_classes, width=w)
    return MobileNetV1(num_classes, w, dropout=dropout, small_inputs=small_inputs, dtype=dtype)

  build.__name__ = name
  build.__doc__ = (f"Builds MobileNet v1 at width {width} (Keras alpha); see `MobileNetV1`."
                   if width is not None else
                   "Builds MobileNet v1 (`width=1.0` is Keras alpha); see `MobileNetV1`.")
  return register(name)(build)


_make_v1("mobilenet_v1", None)
for _width in (0.25, 0.5, 0.75):
  _make_v1(f"mobilenet_v1_{_width}", _width)


@register("mobilenet_v2")
def mobilenet_v2(num_classes: int = 1000, small_inputs: bool = False, dtype: Any = jnp.float32,
                 width: float = 1.0, dropout: float = 0.2,
                 zero_init_residual: bool = False) -> MobileNetV2:
  """Builds torchvision's MobileNet v2 (`width` is its `width_mult`); see `MobileNetV2`."""
  check_config(num_classes, width=width)
  return MobileNetV2(num_classes, width, dropout=dropout, small_inputs=small_inputs,
                     zero_init_residual=zero_init_residual, dtype=dtype)
