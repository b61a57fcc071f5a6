"""Xception classifier.

Chollet 2017, "Xception: Deep Learning with Depthwise Separable Convolutions" (CVPR), Fig. 5: an
entry flow (two 3x3 convs, then three blocks of two separable convs and a 3x3/2 max-pool with a
strided 1x1 conv shortcut), a middle flow of eight residual blocks of three 728-channel separable
convs, and an exit flow (a 728/1024 reduction block, separable convs of 1536 and 2048 channels,
global average pooling, a logistic-regression layer). Every conv and separable conv is followed by
BatchNorm.

Matches Keras `keras.applications.Xception` layer for layer: bias-free convs, separable convs with
depth multiplier 1 and no bias, "valid" padding in the two stem convs and "same" elsewhere (TF's
asymmetric padding), ReLU before each separable conv except the first of block 2, BatchNorm epsilon
1e-3 (Keras' default), Glorot-uniform weights, no dropout. 22,855,952 trainable parameters at
299x299x3 and 1000 classes, as Keras reports (its 54,528 BatchNorm moving statistics are not
counted).

`small_inputs=True` (28x28 / 32x32 images) gives the first conv stride 1, so the four max-pools take
32x32 to 2x2 instead of 299x299 to 10x10; parameter counts are unchanged.
"""
from typing import Any, Sequence

import flax.linen as nn
import jax.numpy as jnp

from gans.models import layers
from gans.models.classifiers import register
from gans.models.classifiers.blocks import BasicConv, batch_norm, check_args, check_config, check_rate, classifier_head

# Keras' default, glorot-uniform; its fan_avg is the same for Keras' and Flax's depthwise layouts.
_init = nn.initializers.glorot_uniform()


class SeparableConv(nn.Module):
  """Depthwise 3x3 conv then pointwise 1x1 conv, both bias-free (Keras SeparableConv2D)."""
  features: int
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, x: jnp.ndarray) -> jnp.ndarray:
    x = nn.Conv(x.shape[-1], (3, 3), padding="SAME", feature_group_count=x.shape[-1],
                conv_general_dilated=layers.conv_general_dilated,
                use_bias=False, kernel_init=_init, dtype=self.dtype, name="depthwise")(x)
    return nn.Conv(self.features, (1, 1), use_bias=False, kernel_init=_init, dtype=self.dtype,
                   name="pointwise")(x)


class XceptionBlock(nn.Module):
  """[ReLU -> SeparableConv -> BN] per width, plus a shortcut (Fig. 5).

  Attributes:
    widths: output channels of the separable convs.
    reduce: end with a 3x3 stride-2 max-pool and take a 1x1 stride-2 conv + BN shortcut; otherwise
      the shortcut is the identity (middle flow).
    first_relu: start with a ReLU (block 2 follows the stem's ReLU and has none).
    dtype: compute dtype.
  """
  widths: Sequence[int]
  reduce: bool = True
  first_relu: bool = True
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, x: jnp.ndarray, train: bool) -> jnp.ndarray:
    shortcut = x
    if self.reduce:
      shortcut = BasicConv(self.widths[-1], 1, 2, act=None, kernel_init=_init, dtype=self.dtype,
                           name="shortcut")(x, train)
    for i, width in enumerate(self.widths):
      if i > 0 or self.first_relu:
        x = nn.relu(x)
      x = SeparableConv(width, self.dtype, name=f"sepconv{i + 1}")(x)
      x = batch_norm(train, self.dtype, f"sepconv{i + 1}_bn", eps=1e-3)(x)
    if self.reduce:
      x = nn.max_pool(x, (3, 3), (2, 2), padding="SAME")
    return x + shortcut


class Xception(nn.Module):
  """Xception (Keras).

  Attributes:
    num_classes: number of logits.
    dropout: dropout rate before the classifier (Keras: none).
    small_inputs: stride-1 first conv, for 28x28 / 32x32 images.
    dtype: compute dtype; parameters stay float32 and the logits are float32.
  """
  num_classes: int = 1000
  dropout: float = 0.0
  small_inputs: bool = False
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, x: jnp.ndarray, train: bool = False) -> jnp.ndarray:
    check_args(x)
    kw = dict(kernel_init=_init, eps=1e-3, dtype=self.dtype)
    x = BasicConv(32, 3, 1 if self.small_inputs else 2, "VALID", name="block1_conv1", **kw)(
        x.astype(self.dtype), train)
    x = BasicConv(64, 3, 1, "VALID", name="block1_conv2", **kw)(x, train)
    x = XceptionBlock((128, 128), first_relu=False, dtype=self.dtype, name="block2")(x, train)
    x = XceptionBlock((256, 256), dtype=self.dtype, name="block3")(x, train)
    x = XceptionBlock((728, 728), dtype=self.dtype, name="block4")(x, train)
    for i in range(5, 13):  # middle flow
      x = XceptionBlock((728, 728, 728), reduce=False, dtype=self.dtype, name=f"block{i}")(x, train)
    x = XceptionBlock((728, 1024), dtype=self.dtype, name="block13")(x, train)
    for i, width in enumerate((1536, 2048)):  # exit flow: SeparableConv -> BN -> ReLU
      x = SeparableConv(width, self.dtype, name=f"block14_sepconv{i + 1}")(x)
      x = nn.relu(batch_norm(train, self.dtype, f"block14_sepconv{i + 1}_bn", eps=1e-3)(x))
    return classifier_head(x, self.num_classes, train, self.dtype, self.dropout, _init,
                           name="predictions")


@register("xception")
def xception(num_classes: int = 1000, small_inputs: bool = False, dtype: Any = jnp.float32,
             dropout: float = 0.0) -> Xception:
  """Keras Xception; see `Xception` for the arguments."""
  check_config(num_classes)
  check_rate("dropout", dropout)
  return Xception(num_classes, dropout, small_inputs, dtype)
