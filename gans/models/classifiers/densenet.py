"""DenseNet-121, -161, -169 and -201 classifiers.

Huang et al. 2017, "Densely Connected Convolutional Networks" (CVPR): DenseNet-BC, each layer
BN-ReLU-1x1 conv (4k channels)-BN-ReLU-3x3 conv (k channels) whose output is concatenated to its
input (Sec. 3, Eq. 2 and "Bottleneck layers"); transitions BN-ReLU-1x1 conv (compression 0.5)-2x2
avg-pool (Table 1).

Matches torchvision `torchvision/models/densenet.py` layer for layer: bias-free convs, BatchNorm
eps 1e-5, a 7x7 stride-2 stem conv with BN-ReLU and a 3x3 stride-2 max-pool, a final BN-ReLU, then
global average pooling and a Dense with bias; growth 32 and 64 stem channels (densenet161: growth
48, 96 stem channels). Trainable parameter counts at 224x224x3, 1000 classes equal torchvision's
exactly (tests/test_classifiers_b.py).

`small_inputs=True` (28x28 / 32x32 images) makes the stem one 3x3 stride-1 conv and drops the
max-pool (as the CIFAR DenseNet of kuangliu/pytorch-cifar), so the four dense blocks run at 1/1,
1/2, 1/4, 1/8 of the input size instead of 1/4 .. 1/32.
"""
import functools
from typing import Any, Sequence

import flax.linen as nn
import jax.numpy as jnp

from gans.models.classifiers import register
from gans.models.classifiers.blocks import BNReLUConv, batch_norm, check_args, check_config, classifier_head, stem

# torchvision DenseNet: kaiming_normal_ (fan_in, gain sqrt(2)) for convs.
_conv_init = nn.initializers.variance_scaling(2.0, "fan_in", "normal")
_unit = functools.partial(BNReLUConv, kernel_init=_conv_init)


class DenseLayer(nn.Module):
  """One DenseNet-BC layer: returns concat([x, H(x)]) with H(x) having `growth_rate` channels."""
  growth_rate: int
  bn_size: int = 4
  drop_rate: float = 0.0
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, x: jnp.ndarray, train: bool) -> jnp.ndarray:
    y = _unit(self.bn_size * self.growth_rate, 1, dtype=self.dtype, name="unit1")(x, train)
    y = _unit(self.growth_rate, 3, dtype=self.dtype, name="unit2")(y, train)
    if self.drop_rate > 0:
      y = nn.Dropout(self.drop_rate, deterministic=not train)(y)
    return jnp.concatenate([x, y], axis=-1)


class DenseNet(nn.Module):
  """DenseNet-BC for ImageNet (Huang et al. 2017, Table 1).

  Attributes:
    block_config: layers per dense block, e.g. (6, 12, 24, 16) for DenseNet-121.
    growth_rate: channels added by each layer (k).
    num_init_features: stem channels.
    num_classes: number of logits.
    bn_size: bottleneck width factor (1x1 conv has bn_size * k channels).
    drop_rate: dropout after each layer (torchvision's default 0).
    small_inputs: 3x3 stride-1 stem without max-pool for 28x28 / 32x32 images.
    dtype: compute dtype; parameters stay float32 and the logits are float32.
  """
  block_config: Sequence[int]
  growth_rate: int = 32
  num_init_features: int = 64
  num_classes: int = 1000
  bn_size: int = 4
  drop_rate: float = 0.0
  small_inputs: bool = False
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, x: jnp.ndarray, train: bool = False) -> jnp.ndarray:
    check_args(x)
    x = stem(x, self.num_init_features, 7, self.small_inputs, train, self.dtype,
             names=("conv0", "norm0"), kernel_init=_conv_init)
    for i, layers in enumerate(self.block_config):
      for j in range(layers):
        x = DenseLayer(self.growth_rate, self.bn_size, self.drop_rate, self.dtype,
                       name=f"denseblock{i + 1}_layer{j + 1}")(x, train)
      if i != len(self.block_config) - 1:  # transition: compression 0.5 then 2x2 average pool
        x = _unit(x.shape[-1] // 2, 1, dtype=self.dtype, name=f"transition{i + 1}")(x, train)
        x = nn.avg_pool(x, (2, 2), (2, 2))
    x = nn.relu(batch_norm(train, self.dtype, "norm5")(x))
    return classifier_head(x, self.num_classes, train, self.dtype)


# name: (growth_rate, block_config, num_init_features), from torchvision.
_CONFIGS = {
    "densenet121": (32, (6, 12, 24, 16), 64),
    "densenet161": (48, (6, 12, 36, 24), 96),
    "densenet169": (32, (6, 12, 32, 32), 64),
    "densenet201": (32, (6, 12, 48, 32), 64),
}


def _make(name: str):
  growth_rate, block_config, num_init_features = _CONFIGS[name]

  def build(num_classes: int = 1000, small_inputs: bool = False, dtype: Any = jnp.float32,
            drop_rate: float = 0.0) -> DenseNet:
    check_config(num_classes)
    return DenseNet(block_config, growth_rate, num_init_features, num_classes,
                    drop_rate=drop_rate, small_inputs=small_inputs, dtype=dtype)

  build.__name__ = name
  build.__doc__ = f"Builds {name} (torchvision); see `DenseNet` for the arguments."
  return register(name)(build)


for _name in _CONFIGS:
  _make(_name)
