"""SqueezeNet 1.0 and 1.1 classifiers.

Iandola et al. 2016, "SqueezeNet: AlexNet-level accuracy with 50x fewer parameters and <0.5MB model
size" (arXiv 1602.07360): Fire modules (Sec. 3.2: a 1x1 "squeeze" conv then parallel 1x1 and 3x3
"expand" convs, all ReLU, concatenated), Table 1 / Fig. 2 layout for 1.0; version 1.1 (SqueezeNet
repository, v1.1) uses a 3x3/64 first conv and pools earlier.

Matches torchvision `torchvision/models/squeezenet.py`: biased convs, no BatchNorm, 3x3 stride-2
ceil-mode max-pools, classifier dropout(0.5)-1x1 conv-ReLU-global average pool (the ReLU on the
class scores is torchvision's), kaiming-uniform conv weights, N(0, 0.01^2) for the final conv, zero
biases. Trainable parameters at 224x224x3, 1000 classes: 1,248,424 (1.0) and 1,235,496 (1.1).

`small_inputs=True` (28x28 / 32x32 images): the first conv has stride 1 and padding k//2 and the
first max-pool is dropped, so the Fire modules run at 1/1, 1/2, 1/4 of the input size instead of 1/4
.. 1/16; parameter counts are unchanged.
"""
from typing import Any, Sequence

import flax.linen as nn
import jax.numpy as jnp

from gans.models.classifiers import register
from gans.models.classifiers.blocks import check_args, check_config, check_rate, max_pool

_conv_init = nn.initializers.variance_scaling(2.0, "fan_in", "uniform")  # torch kaiming_uniform_
# Stem (features, kernel) and layout: (squeeze, expand) per Fire module, "M" a max-pool.
_VERSIONS = {
    "1_0": ((96, 7), ((16, 64), (16, 64), (32, 128), "M", (32, 128), (48, 192), (48, 192),
                      (64, 256), "M", (64, 256))),
    "1_1": ((64, 3), ((16, 64), (16, 64), "M", (32, 128), (32, 128), "M", (48, 192), (48, 192),
                      (64, 256), (64, 256))),
}


class Fire(nn.Module):
  """Fire module: relu(1x1 squeeze) -> concat(relu(1x1 expand), relu(3x3 expand)) (Sec. 3.2)."""
  squeeze: int
  expand: int
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, x: jnp.ndarray) -> jnp.ndarray:
    conv = lambda f, k, name: nn.Conv(f, (k, k), padding=((k // 2, k // 2),) * 2,
                                      kernel_init=_conv_init, dtype=self.dtype, name=name)
    x = nn.relu(conv(self.squeeze, 1, "squeeze")(x))
    return jnp.concatenate([nn.relu(conv(self.expand, 1, "expand1x1")(x)),
                            nn.relu(conv(self.expand, 3, "expand3x3")(x))], axis=-1)


class SqueezeNet(nn.Module):
  """SqueezeNet: stem conv, max-pool, Fire modules and max-pools as in `layout`, conv classifier.

  Attributes:
    stem: (features, kernel) of the stride-2 first conv.
    layout: (squeeze, expand) per Fire module, or "M" for a 3x3 stride-2 ceil-mode max-pool.
    num_classes: number of logits.
    dropout: dropout rate before the classifier conv.
    small_inputs: stride-1 first conv and no first max-pool, for 28x28 / 32x32 images.
    dtype: compute dtype; parameters stay float32 and the logits are float32.
  """
  stem: tuple[int, int]
  layout: Sequence[Any]
  num_classes: int = 1000
  dropout: float = 0.5
  small_inputs: bool = False
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, x: jnp.ndarray, train: bool = False) -> jnp.ndarray:
    check_args(x)
    features, kernel = self.stem
    stride, pad = (1, kernel // 2) if self.small_inputs else (2, 0)
    x = nn.Conv(features, (kernel, kernel), (stride, stride), padding=((pad, pad), (pad, pad)),
                kernel_init=_conv_init, dtype=self.dtype, name="conv1")(x.astype(self.dtype))
    x = nn.relu(x)
    if not self.small_inputs:
      x = max_pool(x, 3, 2, ceil_mode=True)
    fires = 0
    for item in self.layout:
      if item == "M":
        x = max_pool(x, 3, 2, ceil_mode=True)
      else:
        fires += 1
        x = Fire(*item, dtype=self.dtype, name=f"fire{fires + 1}")(x)
    x = nn.Dropout(self.dropout, deterministic=not train)(x)
    x = nn.Conv(self.num_classes, (1, 1), kernel_init=nn.initializers.normal(0.01),
                dtype=self.dtype, name="classifier")(x)
    return jnp.asarray(jnp.mean(nn.relu(x), axis=(1, 2)), jnp.float32)


def _make(version: str):
  stem, layout = _VERSIONS[version]
  name = f"squeezenet{version}"

  def build(num_classes: int = 1000, small_inputs: bool = False, dtype: Any = jnp.float32,
            dropout: float = 0.5) -> SqueezeNet:
    check_config(num_classes)
    check_rate("dropout", dropout)
    return SqueezeNet(stem, layout, num_classes, dropout, small_inputs, dtype)

  build.__name__ = name
  build.__doc__ = f"Builds torchvision's {name}; see `SqueezeNet` for the arguments."
  return register(name)(build)


for _version in _VERSIONS:
  _make(_version)
