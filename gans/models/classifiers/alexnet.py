"""AlexNet and ZFNet classifiers.

AlexNet: Krizhevsky, Sutskever & Hinton 2012, "ImageNet Classification with Deep Convolutional
Neural Networks" (NeurIPS), in the one-tower form of torchvision `alexnet` (Krizhevsky 2014, "One
weird trick"): convs 64-192-384-256-256 (11x11/4, 5x5, 3x3 x3) with ReLU, 3x3 stride-2 max-pools
after conv1, conv2 and conv5, no LRN, an adaptive average pool to 6x6, then dropout-fc6
(4096)-ReLU-dropout- fc7 (4096)-ReLU-fc8. 61,100,840 trainable parameters at 224x224x3 and 1000
classes, as torchvision.

ZFNet: Zeiler & Fergus 2014, "Visualizing and Understanding Convolutional Networks" (ECCV; arXiv
1311.2901), Fig. 3: 96 7x7/2 filters, 256 5x5/2, 384 3x3, 384 3x3, 256 3x3, each of the first two
followed by ReLU, 3x3/2 max-pool and contrast normalisation across maps (here AlexNet's local
response normalisation, Krizhevsky et al. 2012 Sec. 3.3), a 3x3/2 max-pool after layer 5, fc6 and
fc7 of 4096 units with dropout 0.5 (Sec. 3) and the classifier. Map sizes 110-55-26-13-13-13-6 as in
Fig. 3 need conv1 padding 1 and Caffe's ceil-mode pooling. Trainable parameters at 224x224x3, 1000
classes: 14,208 + 614,656 + 885,120 + 1,327,488 + 884,992 (convs) + 37,752,832 + 16,781,312 +
4,097,000 (fcs) = 62,357,608. Weights start as N(0, 0.01^2) and biases at 0 (Sec. 3 "initialized to
10^-2").

`small_inputs=True` (28x28 / 32x32 images): conv1 becomes 3x3 stride 1 with padding 1, the first
max-pool is dropped (ZFNet keeps its normalisation after conv1), and the final map is average-pooled
to 1x1 instead of 6x6 (the 6x6 grid is what a 224x224 image leaves; a 32x32 one is 7 times smaller),
so fc6 reads 256 features instead of 9,216; fc7 and fc8 are unchanged. ZFNet gets the same adaptive
pool as AlexNet, an identity at 224x224 where its map is already 6x6.
"""
from typing import Any, Sequence

import flax.linen as nn
import jax.numpy as jnp
from jax import lax

from gans.models.classifiers import register
from gans.models.classifiers.blocks import (
  adaptive_avg_pool,
  check_args,
  check_config,
  check_rate,
  fc_head,
  max_pool,
  torch_default_init,
)


def local_response_norm(x: jnp.ndarray, size: int = 5, alpha: float = 1e-4, beta: float = 0.75,
                        k: float = 2.0) -> jnp.ndarray:
  """b_i = a_i / (k + alpha * sum_{|j-i|<=size/2} a_j^2)^beta over channels (Krizhevsky, 3.3)."""
  sq = jnp.square(x.astype(jnp.float32))
  total = lax.reduce_window(sq, 0.0, lax.add, (1, 1, 1, size), (1, 1, 1, 1),
                            ((0, 0), (0, 0), (0, 0), (size // 2, (size - 1) // 2)))
  return (x / (k + alpha * total) ** beta).astype(x.dtype)


class AlexNet(nn.Module):
  """AlexNet / ZFNet family: five convs, three max-pools, optional LRN, a 3-layer fc head.

  Attributes:
    convs: (features, kernel, stride, padding) of conv1..conv5 (conv1 is replaced by 3x3/1 pad 1
      when `small_inputs`).
    num_classes: number of logits.
    lrn: local response normalisation after the first two pools (ZFNet).
    ceil_mode: Caffe's ceil-mode max-pooling (ZFNet) instead of floor mode (torchvision).
    dropout_first: dropout on the inputs (torchvision AlexNet) or outputs (Caffe) of fc6 and fc7.
    init_std: weights N(0, init_std^2) if set, else PyTorch's default init; biases start at 0.
    dropout: dropout rate in the fc head.
    small_inputs: 3x3 stride-1 conv1, no first max-pool and a 1x1 pooled grid before fc6, for
      28x28 / 32x32 images.
    dtype: compute dtype; parameters stay float32 and the logits are float32.
  """
  convs: Sequence[tuple[int, int, int, int]]
  num_classes: int = 1000
  lrn: bool = False
  ceil_mode: bool = False
  dropout_first: bool = True
  init_std: float | None = None
  dropout: float = 0.5
  small_inputs: bool = False
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, x: jnp.ndarray, train: bool = False) -> jnp.ndarray:
    check_args(x)
    init = nn.initializers.normal(self.init_std) if self.init_std else torch_default_init
    x = x.astype(self.dtype)
    for i, (features, kernel, stride, pad) in enumerate(self.convs):
      if i == 0 and self.small_inputs:
        kernel, stride, pad = 3, 1, 1
      x = nn.Conv(features, (kernel, kernel), (stride, stride), padding=((pad, pad), (pad, pad)),
                  kernel_init=init, dtype=self.dtype, name=f"conv{i + 1}")(x)
      x = nn.relu(x)
      if i in (1, 4) or (i == 0 and not self.small_inputs):
        x = max_pool(x, 3, 2, ceil_mode=self.ceil_mode)
      if i in (0, 1) and self.lrn:
        x = local_response_norm(x)
    x = adaptive_avg_pool(x, 1 if self.small_inputs else 6)
    return fc_head(x, self.num_classes, train, self.dtype, init, dropout=self.dropout,
                   dropout_first=self.dropout_first)


@register("alexnet")
def alexnet(num_classes: int = 1000, small_inputs: bool = False, dtype: Any = jnp.float32,
            dropout: float = 0.5) -> AlexNet:
  """torchvision AlexNet (61,100,840 parameters at 1000 classes)."""
  check_config(num_classes)
  check_rate("dropout", dropout)
  return AlexNet(((64, 11, 4, 2), (192, 5, 1, 2), (384, 3, 1, 1), (256, 3, 1, 1), (256, 3, 1, 1)),
                 num_classes, dropout=dropout, small_inputs=small_inputs, dtype=dtype)


@register("zfnet")
def zfnet(num_classes: int = 1000, small_inputs: bool = False, dtype: Any = jnp.float32,
          dropout: float = 0.5) -> AlexNet:
  """ZFNet, Zeiler & Fergus 2014 Fig. 3 (62,357,608 parameters at 1000 classes)."""
  check_config(num_classes)
  check_rate("dropout", dropout)
  return AlexNet(((96, 7, 2, 1), (256, 5, 2, 0), (384, 3, 1, 1), (384, 3, 1, 1), (256, 3, 1, 1)),
                 num_classes, lrn=True, ceil_mode=True, dropout_first=False, init_std=0.01,
                 dropout=dropout, small_inputs=small_inputs, dtype=dtype)
