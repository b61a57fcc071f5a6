"""ResNet, ResNeXt, Wide ResNet and SE-ResNet(-Xt) classifiers, all built from one residual block.

Papers: He et al. 2016, "Deep Residual Learning for Image Recognition" (ResNet, Table 1); Xie et
al. 2017, "Aggregated Residual Transformations for Deep Neural Networks" (ResNeXt, grouped 3x3);
Zagoruyko & Komodakis 2016, "Wide Residual Networks" (the torchvision `wide_resnet50_2` reading: a
bottleneck twice as wide); Hu et al. 2018, "Squeeze-and-Excitation Networks" (SE, reduction 16).

The CIFAR ResNets `resnet20/32/44/56/110` are He et al. 2016, sec. 4.2: a 3x3 conv with 16 filters, three
stages of n basic blocks (6n + 2 layers) with 16, 32, 64 filters on 32x32, 16x16, 8x8 maps, global average
pool, a 10-way fc, and parameter-free identity shortcuts (option A: subsample by 2 and zero-pad the new
channels). 0.27M / 0.46M / 0.66M / 0.85M / 1.7M parameters (the paper's Table 6; exactly 269,722 for
resnet20 at 32x32x3 with 10 classes, as akamaster/pytorch_resnet_cifar10). They always use the small stem.

Matches torchvision `torchvision/models/resnet.py` layer for layer (ResNet v1.5: stride on the 3x3
conv of the bottleneck; bias-free convs; BatchNorm eps 1e-5; 1x1 conv + BN projection shortcuts;
bottleneck width `int(planes * base_width / 64) * groups`) and, for the SE variants, timm's
`seresnet50`, `seresnet101`, `seresnext50_32x4d` (`timm/models/resnet.py`: the SE module, two
biased 1x1 convs with C/16 hidden units, gates the last BN's output before the residual sum).
Trainable parameter counts at 224x224x3, 1000 classes equal the references exactly
(tests/test_classifiers_b.py).

`small_inputs=True` (28x28 / 32x32 images) replaces the 7x7 stride-2 stem conv and the 3x3 stride-2
max-pool by one 3x3 stride-1 conv (the CIFAR stem of kuangliu/pytorch-cifar and SimCLR), so the
four stages run at 1/1, 1/2, 1/4, 1/8 of the input size instead of 1/4 .. 1/32. Only the stem
conv's kernel changes (64*3*3*C instead of 64*7*7*C parameters).
"""
from typing import Any, Sequence

import flax.linen as nn
import jax.numpy as jnp

from gans.models.classifiers import register
from gans.models.classifiers.blocks import ConvBN, check_args, check_config, classifier_head, stem


class SqueezeExcite(nn.Module):
  """Channel gating x * sigmoid(W2 relu(W1 mean_hw(x) + b1) + b2) (Hu et al. 2018, Eq. 2-3)."""
  hidden: int
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, x: jnp.ndarray) -> jnp.ndarray:
    s = jnp.mean(x, axis=(1, 2), keepdims=True)
    s = nn.relu(nn.Dense(self.hidden, dtype=self.dtype, name="fc1")(s))
    s = nn.sigmoid(nn.Dense(x.shape[-1], dtype=self.dtype, name="fc2")(s))
    return x * s


class ResidualBlock(nn.Module):
  """The residual block of every variant here: basic or bottleneck, grouped, widened, with SE.

  Basic: 3x3 -> 3x3 (He et al. 2016, Fig. 2 left). Bottleneck: 1x1 -> 3x3 (stride, `groups`) -> 1x1
  with `planes * 4` outputs (Fig. 5 right; ResNeXt Fig. 3c). The shortcut is a 1x1 conv + BN when
  the shape changes (option B), or with `zero_pad_shortcut` the subsampled input with zero channels
  appended (option A, sec. 3.3); the identity otherwise.

  Attributes:
    planes: base channels of the stage (64, 128, 256, 512).
    strides: stride of the block (on the 3x3 conv, as in torchvision v1.5).
    bottleneck: bottleneck (expansion 4) or basic (expansion 1) block.
    groups: cardinality of the 3x3 conv (ResNeXt).
    base_width: width per group at planes=64 (64 for ResNet, 4 for ResNeXt 32x4d, 128 for Wide).
    se_reduction: SE reduction ratio r, or 0 for no SE.
    zero_init_residual: zero-init the scale of the last BN of the residual branch.
    dtype: compute dtype.
    zero_pad_shortcut: option A shortcuts (no parameters) where the shape changes.
  """
  planes: int
  strides: int = 1
  bottleneck: bool = True
  groups: int = 1
  base_width: int = 64
  se_reduction: int = 0
  zero_init_residual: bool = False
  dtype: Any = jnp.float32
  zero_pad_shortcut: bool = False

  @nn.compact
  def __call__(self, x: jnp.ndarray, train: bool) -> jnp.ndarray:
    def conv(features, kernel, name, strides=1, groups=1, last=False):
      return ConvBN(features, kernel, strides, groups=groups, act=None if last else nn.relu,
                    zero_init=last and self.zero_init_residual, dtype=self.dtype, name=name)

    if self.bottleneck:
      width = int(self.planes * self.base_width / 64) * self.groups
      out = self.planes * 4
      y = conv(width, 1, "conv1")(x, train)
      y = conv(width, 3, "conv2", self.strides, self.groups)(y, train)
      y = conv(out, 1, "conv3", last=True)(y, train)
    else:
      out = self.planes
      y = conv(out, 3, "conv1", self.strides)(x, train)
      y = conv(out, 3, "conv2", last=True)(y, train)
    if self.se_reduction:  # timm rounds C/r to a multiple of 8: a no-op for C/16 here
      y = SqueezeExcite(out // self.se_reduction, dtype=self.dtype, name="se")(y)
    if self.zero_pad_shortcut and (self.strides != 1 or x.shape[-1] != out):  # option A (sec. 3.3)
      x = x[:, ::self.strides, ::self.strides, :]
      x = jnp.pad(x, ((0, 0), (0, 0), (0, 0), (0, out - x.shape[-1])))
    elif self.strides != 1 or x.shape[-1] != out:
      x = ConvBN(out, 1, self.strides, act=None, dtype=self.dtype, name="downsample")(x, train)
    return nn.relu(y + x)


class ResNet(nn.Module):
  """ResNet / ResNeXt / Wide ResNet / SE-ResNet: stem, four stages of `ResidualBlock`, pool, Dense.

  Attributes:
    stage_sizes: blocks per stage, e.g. (3, 4, 6, 3) for 50 layers.
    num_classes: number of logits.
    bottleneck, groups, base_width, se_reduction: passed to every `ResidualBlock`.
    small_inputs: CIFAR stem (3x3 stride-1 conv, no max-pool) for 28x28 / 32x32 images.
    zero_init_residual: zero-init the last BN of each residual branch (torchvision's flag).
    dtype: compute dtype; parameters stay float32 and the logits are float32.
    base_planes: channels of the stem and the first stage (doubling per stage): 64, or 16 for CIFAR.
    zero_pad_shortcut: option A shortcuts (the CIFAR ResNets).
  """
  stage_sizes: Sequence[int]
  num_classes: int = 1000
  bottleneck: bool = True
  groups: int = 1
  base_width: int = 64
  se_reduction: int = 0
  small_inputs: bool = False
  zero_init_residual: bool = False
  dtype: Any = jnp.float32
  base_planes: int = 64
  zero_pad_shortcut: bool = False

  @nn.compact
  def __call__(self, x: jnp.ndarray, train: bool = False) -> jnp.ndarray:
    check_args(x)
    x = stem(x, self.base_planes, 7, self.small_inputs, train, self.dtype)
    for i, blocks in enumerate(self.stage_sizes):
      for j in range(blocks):
        x = ResidualBlock(self.base_planes * 2**i, 2 if i > 0 and j == 0 else 1, self.bottleneck, self.groups,
                          self.base_width, self.se_reduction, self.zero_init_residual, self.dtype,
                          self.zero_pad_shortcut, name=f"layer{i + 1}_{j}")(x, train)
    return classifier_head(x, self.num_classes, train, self.dtype)


# name: (stage_sizes, bottleneck, groups, base_width, se_reduction), from torchvision / timm.
_CONFIGS = {
    "resnet18": ((2, 2, 2, 2), False, 1, 64, 0),
    "resnet34": ((3, 4, 6, 3), False, 1, 64, 0),
    "resnet50": ((3, 4, 6, 3), True, 1, 64, 0),
    "resnet101": ((3, 4, 23, 3), True, 1, 64, 0),
    "resnet152": ((3, 8, 36, 3), True, 1, 64, 0),
    "resnext50_32x4d": ((3, 4, 6, 3), True, 32, 4, 0),
    "resnext101_32x8d": ((3, 4, 23, 3), True, 32, 8, 0),
    "resnext101_64x4d": ((3, 4, 23, 3), True, 64, 4, 0),
    "wide_resnet50_2": ((3, 4, 6, 3), True, 1, 128, 0),
    "wide_resnet101_2": ((3, 4, 23, 3), True, 1, 128, 0),
    "se_resnet50": ((3, 4, 6, 3), True, 1, 64, 16),  # timm seresnet50
    "se_resnet101": ((3, 4, 23, 3), True, 1, 64, 16),  # timm seresnet101
    "se_resnext50_32x4d": ((3, 4, 6, 3), True, 32, 4, 16),  # timm seresnext50_32x4d
}


def _make(name: str):
  stage_sizes, bottleneck, groups, base_width, se_reduction = _CONFIGS[name]

  def build(num_classes: int = 1000, small_inputs: bool = False, dtype: Any = jnp.float32,
            zero_init_residual: bool = False) -> ResNet:
    check_config(num_classes)
    return ResNet(stage_sizes, num_classes, bottleneck=bottleneck, groups=groups,
                  base_width=base_width, se_reduction=se_reduction, small_inputs=small_inputs,
                  zero_init_residual=zero_init_residual, dtype=dtype)

  build.__name__ = name
  build.__doc__ = f"Builds {name}; see `ResNet` for the arguments."
  return register(name)(build)


for _name in _CONFIGS:
  _make(_name)


def _make_cifar(depth: int):
  n = (depth - 2) // 6

  def build(num_classes: int = 10, small_inputs: bool = True, dtype: Any = jnp.float32,
            zero_init_residual: bool = False) -> ResNet:
    del small_inputs  # He et al. 2016, sec. 4.2: always the 3x3 stride-1 stem
    check_config(num_classes)
    return ResNet((n, n, n), num_classes, bottleneck=False, small_inputs=True, base_planes=16,
                  zero_pad_shortcut=True, zero_init_residual=zero_init_residual, dtype=dtype)

  build.__name__ = f"resnet{depth}"
  build.__doc__ = f"Builds the CIFAR ResNet-{depth} (He et al. 2016, sec. 4.2; n = {n}); see `ResNet`."
  return register(f"resnet{depth}")(build)


for _depth in (20, 32, 44, 56, 110):
  _make_cifar(_depth)
