"""ShuffleNet v1 and v2 classifiers.

ShuffleNet v1: Zhang et al. 2018, "ShuffleNet: An Extremely Efficient Convolutional Neural Network
for Mobile Devices" (CVPR). Units are 1x1 group conv-BN-ReLU, channel shuffle, 3x3 depthwise
conv-BN (no ReLU), 1x1 group conv-BN, then a residual sum (stride 1) or a concat with a 3x3
stride-2 average pool of the input (stride 2), then ReLU (Fig. 2); bottleneck channels are a
quarter of the stage's output channels and the first 1x1 conv of Stage 2 is not grouped (Sec. 3.3);
stages as in Table 1 (3x3 stride-2 conv with 24 channels, max-pool, 4 / 8 / 4 units). Matches
osmr's imgclsmob `pytorch/pytorchcv/models/shufflenet.py` (bias-free convs, BatchNorm eps 1e-5, a
classifier with bias): `shufflenet_v1` (g=3, 1x) has 1,865,728 trainable parameters at 1000
classes, imgclsmob's `shufflenet_g3_w1` count; `groups` and `width` (scale factor s, channels
`int(c * s)`) select the other Table 1 / Table 2 models (g=8 1x: 2,434,768; g=3 0.5x: 718,324,
imgclsmob's counts).

ShuffleNet v2: Ma et al. 2018, "ShuffleNet V2: Practical Guidelines for Efficient CNN Architecture
Design" (ECCV). Units split the channels in half, transform one half by 1x1 conv-BN-ReLU, 3x3
depthwise conv-BN, 1x1 conv-BN-ReLU, concat and shuffle with 2 groups; stride-2 units transform
both copies of the input (Fig. 3c, 3d; Table 5). Matches torchvision
`torchvision/models/shufflenetv2.py` exactly (BatchNorm eps 1e-5, bias-free convs, conv5 then
global pool and a Dense with bias).

`small_inputs=True` (28x28 / 32x32 images), for both: the stem conv has stride 1 and the max-pool
is dropped, so the three stages run at 1/2, 1/4, 1/8 of the input size instead of 1/8 .. 1/32.
Parameter counts do not change.
"""
from typing import Any, Sequence

import flax.linen as nn
import jax.numpy as jnp

from gans.errors import UserError
from gans.models.classifiers import register
from gans.models.classifiers.blocks import ConvBN, check_args, check_config, classifier_head, stem

# Zhang et al. 2018, Table 1: Stage 2 output channels for each group count g (doubled per stage).
_V1_STAGE2_CHANNELS = {1: 144, 2: 200, 3: 240, 4: 272, 8: 384}
_REPEATS = (4, 8, 4)  # units per stage, both versions


def channel_shuffle(x: jnp.ndarray, groups: int) -> jnp.ndarray:
  """Shuffles NHWC channels: (g, c/g) -> (c/g, g) (Zhang et al. 2018, Sec. 3.1, Fig. 1c)."""
  *lead, c = x.shape
  x = x.reshape(*lead, groups, c // groups)
  return jnp.swapaxes(x, -1, -2).reshape(*lead, c)


class ShuffleV1Unit(nn.Module):
  """ShuffleNet v1 unit (Zhang et al. 2018, Fig. 2b for stride 1, Fig. 2c for stride 2).

  Attributes:
    features: output channels of the unit.
    groups: groups g of the pointwise convs.
    strides: 1 (residual sum) or 2 (concat with the average-pooled input).
    group_first: whether the first 1x1 conv is grouped (not for the first unit of Stage 2).
    zero_init_residual: zero-init the last BN of stride-1 units.
    dtype: compute dtype.
  """
  features: int
  groups: int
  strides: int = 1
  group_first: bool = True
  zero_init_residual: bool = False
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, x: jnp.ndarray, train: bool) -> jnp.ndarray:
    mid = self.features // 4
    downsample = self.strides == 2
    out = self.features - x.shape[-1] if downsample else self.features
    if mid % self.groups or out % self.groups:
      raise UserError(f"ShuffleNet v1 channels {mid} and {out} must divide by "
                      f"groups={self.groups}; choose another width")
    y = ConvBN(mid, 1, groups=self.groups if self.group_first else 1, dtype=self.dtype,
               name="compress")(x, train)
    y = channel_shuffle(y, self.groups)
    y = ConvBN(mid, 3, self.strides, groups=mid, act=None, dtype=self.dtype,
               name="depthwise")(y, train)
    y = ConvBN(out, 1, groups=self.groups, act=None, dtype=self.dtype,
               zero_init=self.zero_init_residual and not downsample, name="expand")(y, train)
    if downsample:
      y = jnp.concatenate([y, nn.avg_pool(x, (3, 3), (2, 2), padding=((1, 1), (1, 1)))], axis=-1)
    else:
      y = y + x
    return nn.relu(y)


class ShuffleNetV1(nn.Module):
  """ShuffleNet v1 (Zhang et al. 2018, Table 1).

  Attributes:
    num_classes: number of logits.
    groups: g in {1, 2, 3, 4, 8}.
    width: scale factor s ("ShuffleNet s x"); channels `int(c * s)`.
    small_inputs: stride-1 stem without max-pool for 28x28 / 32x32 images.
    zero_init_residual: zero-init the last BN of stride-1 units.
    dtype: compute dtype; parameters stay float32 and the logits are float32.
  """
  num_classes: int = 1000
  groups: int = 3
  width: float = 1.0
  small_inputs: bool = False
  zero_init_residual: bool = False
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, x: jnp.ndarray, train: bool = False) -> jnp.ndarray:
    check_args(x)
    x = stem(x, int(24 * self.width), 3, self.small_inputs, train, self.dtype)
    for i, repeats in enumerate(_REPEATS):
      channels = int(_V1_STAGE2_CHANNELS[self.groups] * 2**i * self.width)
      for j in range(repeats):
        x = ShuffleV1Unit(channels, self.groups, 2 if j == 0 else 1, group_first=(i, j) != (0, 0),
                          zero_init_residual=self.zero_init_residual, dtype=self.dtype,
                          name=f"stage{i + 2}_{j}")(x, train)
    return classifier_head(x, self.num_classes, train, self.dtype)


class ShuffleV2Unit(nn.Module):
  """ShuffleNet v2 unit (Ma et al. 2018, Fig. 3c for stride 1, Fig. 3d for stride 2)."""
  features: int
  strides: int = 1
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, x: jnp.ndarray, train: bool) -> jnp.ndarray:
    half = self.features // 2
    if self.strides == 1:
      left, right = jnp.split(x, 2, axis=-1)  # channel split (Sec. 4)
    else:
      left = ConvBN(x.shape[-1], 3, self.strides, groups=x.shape[-1], act=None, dtype=self.dtype,
                    name="left_depthwise")(x, train)
      left = ConvBN(half, 1, dtype=self.dtype, name="left_pointwise")(left, train)
      right = x
    right = ConvBN(half, 1, dtype=self.dtype, name="right_pointwise1")(right, train)
    right = ConvBN(half, 3, self.strides, groups=half, act=None, dtype=self.dtype,
                   name="right_depthwise")(right, train)
    right = ConvBN(half, 1, dtype=self.dtype, name="right_pointwise2")(right, train)
    return channel_shuffle(jnp.concatenate([left, right], axis=-1), 2)


class ShuffleNetV2(nn.Module):
  """ShuffleNet v2 (Ma et al. 2018, Table 5).

  Attributes:
    stage_channels: output channels of conv1, stages 2-4 and conv5.
    num_classes: number of logits.
    small_inputs: stride-1 stem without max-pool for 28x28 / 32x32 images.
    dtype: compute dtype; parameters stay float32 and the logits are float32.
  """
  stage_channels: Sequence[int]
  num_classes: int = 1000
  small_inputs: bool = False
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, x: jnp.ndarray, train: bool = False) -> jnp.ndarray:
    check_args(x)
    first, *stages, last = self.stage_channels
    x = stem(x, first, 3, self.small_inputs, train, self.dtype)
    for i, (repeats, channels) in enumerate(zip(_REPEATS, stages)):
      for j in range(repeats):
        x = ShuffleV2Unit(channels, 2 if j == 0 else 1, self.dtype,
                          name=f"stage{i + 2}_{j}")(x, train)
    x = ConvBN(last, 1, dtype=self.dtype, name="conv5")(x, train)
    return classifier_head(x, self.num_classes, train, self.dtype)


@register("shufflenet_v1")
def shufflenet_v1(num_classes: int = 1000, small_inputs: bool = False, dtype: Any = jnp.float32,
                  groups: int = 3, width: float = 1.0,
                  zero_init_residual: bool = False) -> ShuffleNetV1:
  """Builds ShuffleNet v1 (default g=3, 1x, Zhang et al. 2018 Table 1); see `ShuffleNetV1`."""
  check_config(num_classes, width=width)
  if groups not in _V1_STAGE2_CHANNELS:
    raise UserError(f"shufflenet_v1 groups must be one of {sorted(_V1_STAGE2_CHANNELS)}, "
                    f"got {groups!r}")
  return ShuffleNetV1(num_classes, groups, width, small_inputs=small_inputs,
                      zero_init_residual=zero_init_residual, dtype=dtype)


# name: channels of conv1, stages 2-4, conv5 (torchvision, from Ma et al. 2018 Table 5).
_V2_CONFIGS = {
    "shufflenet_v2_x0_5": (24, 48, 96, 192, 1024),
    "shufflenet_v2_x1_0": (24, 116, 232, 464, 1024),
    "shufflenet_v2_x1_5": (24, 176, 352, 704, 1024),
    "shufflenet_v2_x2_0": (24, 244, 488, 976, 2048),
}


def _make_v2(name: str):
  channels = _V2_CONFIGS[name]

  def build(num_classes: int = 1000, small_inputs: bool = False,
            dtype: Any = jnp.float32) -> ShuffleNetV2:
    check_config(num_classes)
    return ShuffleNetV2(channels, num_classes, small_inputs=small_inputs, dtype=dtype)

  build.__name__ = name
  build.__doc__ = f"Builds torchvision's {name}; see `ShuffleNetV2`."
  return register(name)(build)


for _name in _V2_CONFIGS:
  _make_v2(_name)
