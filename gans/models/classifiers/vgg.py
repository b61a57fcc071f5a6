"""VGG-11/13/16/19 classifiers, with and without BatchNorm.

Simonyan & Zisserman 2015, "Very Deep Convolutional Networks for Large-Scale Image Recognition"
(ICLR), Table 1 configurations A (11 layers), B (13), D (16) and E (19): five stages of 3x3 stride-1
convs (padding 1) with 64, 128, 256, 512, 512 channels, each stage ended by a 2x2 stride-2 max-pool,
then fc6 (4096)-ReLU-dropout-fc7 (4096)-ReLU-dropout-fc8 (Sec. 2.1, 3.1).

Matches torchvision `torchvision/models/vgg.py`: convs keep their bias, the `_bn` variants put a
BatchNorm (eps 1e-5) between each conv and its ReLU, an adaptive average pool to 7x7 precedes the
classifier, conv weights start as kaiming-normal (fan_out), fc weights as N(0, 0.01^2), biases at 0.
Trainable parameters at 224x224x3, 1000 classes: vgg11 132,863,336, vgg13 133,047,848, vgg16
138,357,544, vgg19 143,667,240 (+5,504 / 5,888 / 8,448 / 11,008 BatchNorm scales and offsets for the
`_bn` variants); tests/test_classifiers_a.py derives them layer by layer.

`small_inputs=True` (28x28 / 32x32 images) drops the first stage's max-pool, so the five stages run
at 1/1, 1/2, 1/4, 1/8, 1/16 of the input size (a 28x28 image would otherwise vanish in the fifth
pool), and average-pools the final 1x1 / 2x2 map to 1x1 instead of 7x7 (the 7x7 grid is what a
224x224 image leaves; a 32x32 one is 7 times smaller): fc6 reads 512 features instead of 25,088, fc7
and fc8 are unchanged (vgg16 with 10 classes: 33,638,218 parameters).
"""
from typing import Any, Sequence

import flax.linen as nn
import jax.numpy as jnp

from gans.models.classifiers import register
from gans.models.classifiers.blocks import (
  adaptive_avg_pool,
  batch_norm,
  check_args,
  check_config,
  check_rate,
  fc_head,
  kaiming_fan_out_init,
)

_WIDTHS = (64, 128, 256, 512, 512)
# Convs per stage: Table 1 columns A, B, D, E.
_DEPTHS = {"vgg11": (1, 1, 2, 2, 2), "vgg13": (2, 2, 2, 2, 2), "vgg16": (2, 2, 3, 3, 3),
           "vgg19": (2, 2, 4, 4, 4)}
_fc_init = nn.initializers.normal(0.01)


class VGG(nn.Module):
  """VGG with `depths[i]` 3x3 convs of `_WIDTHS[i]` channels in stage i.

  Attributes:
    depths: convs per stage (five stages).
    num_classes: number of logits.
    batch_norm: BatchNorm (eps 1e-5) after every conv.
    dropout: dropout rate after fc6 and fc7.
    small_inputs: no max-pool after the first stage and a 1x1 pooled grid before fc6, for
      28x28 / 32x32 images.
    dtype: compute dtype; parameters stay float32 and the logits are float32.
  """
  depths: Sequence[int]
  num_classes: int = 1000
  batch_norm: bool = False
  dropout: float = 0.5
  small_inputs: bool = False
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, x: jnp.ndarray, train: bool = False) -> jnp.ndarray:
    check_args(x)
    x = x.astype(self.dtype)
    for stage, (width, depth) in enumerate(zip(_WIDTHS, self.depths)):
      for i in range(depth):
        x = nn.Conv(width, (3, 3), padding=((1, 1), (1, 1)), kernel_init=kaiming_fan_out_init,
                    dtype=self.dtype, name=f"conv{stage + 1}_{i + 1}")(x)
        if self.batch_norm:
          x = batch_norm(train, self.dtype, f"bn{stage + 1}_{i + 1}")(x)
        x = nn.relu(x)
      if stage > 0 or not self.small_inputs:
        x = nn.max_pool(x, (2, 2), (2, 2))
    x = adaptive_avg_pool(x, 1 if self.small_inputs else 7)
    return fc_head(x, self.num_classes, train, self.dtype, _fc_init, dropout=self.dropout,
                   dropout_first=False)


def _make(name: str, batch_norm: bool):
  depths = _DEPTHS[name]

  def build(num_classes: int = 1000, small_inputs: bool = False, dtype: Any = jnp.float32,
            dropout: float = 0.5) -> VGG:
    check_config(num_classes)
    check_rate("dropout", dropout)
    return VGG(depths, num_classes, batch_norm, dropout, small_inputs, dtype)

  full_name = name + ("_bn" if batch_norm else "")
  build.__name__ = full_name
  build.__doc__ = f"Builds torchvision's {full_name}; see `VGG` for the arguments."
  return register(full_name)(build)


for _name in _DEPTHS:
  for _bn in (False, True):
    _make(_name, _bn)
