"""Dual Path Networks: DPN-68, -92, -98, -107 and -131.

Chen et al. 2017, "Dual Path Networks" (NeurIPS, arXiv:1707.01629). Each block has a residual
path (ResNet-like, summed) and a densely connected path (DenseNet-like, concatenated) sharing one
bottleneck with a grouped 3x3 convolution.

Matches timm `timm/models/dpn.py` (a port of cypw's MXNet DPNs): pre-activation BN-ReLU-conv
units, BatchNorm epsilon 1e-3 with PyTorch's default momentum 0.1 (flax momentum 0.9), bias-free
convolutions with PyTorch-style symmetric padding, an ELU after the final BatchNorm, and a 1x1-conv
(here Dense) classifier with bias. Parameter counts at num_classes=1000 equal timm's: dpn68
12,611,602; dpn92 37,668,392; dpn98 61,570,728; dpn131 79,254,504; dpn107 86,917,800.

`small_inputs=True` (for 28x28 / 32x32 images) makes the stem a stride-1 3x3 convolution without the
max pool, so the four stages run at 1/1, 1/2, 1/4 and 1/8 of the input size instead of 1/4 .. 1/32.
"""
import functools
from typing import Any, Sequence, Union

import flax.linen as nn
import jax.numpy as jnp

from gans.models.classifiers import register
from gans.models.classifiers.blocks import (
  BNReLUConv,
  batch_norm,
  check_args,
  check_config,
  check_rate,
  classifier_head,
  stem,
  torch_default_init,
)

DualPath = tuple[jnp.ndarray, jnp.ndarray]
# timm keeps PyTorch's default init; its BatchNorms use eps 1e-3.
_batch_norm = functools.partial(batch_norm, eps=1e-3)


class DualPathBlock(nn.Module):
  """One dual path block: a shared bottleneck feeding a residual and a dense path.

  Attributes:
    num_1x1_a: width of the 1x1 reduction.
    num_3x3_b: width of the grouped 3x3 convolution.
    num_1x1_c: width of the residual path.
    inc: channels added to the dense path.
    groups: groups of the 3x3 convolution.
    block_type: "proj" (first block of a stage, stride 1), "down" (first block, stride 2) or
      "normal".
  """
  num_1x1_a: int
  num_3x3_b: int
  num_1x1_c: int
  inc: int
  groups: int
  block_type: str = "normal"
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, x: Union[jnp.ndarray, DualPath], train: bool) -> DualPath:
    x_in = jnp.concatenate(x, axis=-1) if isinstance(x, tuple) else x
    unit = functools.partial(BNReLUConv, eps=1e-3, dtype=self.dtype)
    stride = 2 if self.block_type == "down" else 1
    if self.block_type == "normal":
      resid, dense = x
    else:
      # First block of a stage: project the input onto both paths (dense path starts at 2 * inc).
      name = "c1x1_w_s2" if stride == 2 else "c1x1_w_s1"
      proj = unit(self.num_1x1_c + 2 * self.inc, 1, stride, name=name)(x_in, train)
      resid, dense = proj[..., :self.num_1x1_c], proj[..., self.num_1x1_c:]
    h = unit(self.num_1x1_a, 1, name="c1x1_a")(x_in, train)
    h = unit(self.num_3x3_b, 3, stride, self.groups, name="c3x3_b")(h, train)
    h = unit(self.num_1x1_c + self.inc, 1, name="c1x1_c")(h, train)
    # Chen et al. 2017: the residual path sums (feature re-use), the dense path concatenates
    # (new features).
    return resid + h[..., :self.num_1x1_c], jnp.concatenate([dense, h[..., self.num_1x1_c:]], -1)


class DPN(nn.Module):
  """Dual Path Network (timm `DPN`, without dilation or feature extraction options).

  Attributes:
    num_classes: number of logits.
    k_sec: blocks per stage.
    inc_sec: dense-path growth per block, per stage.
    k_r: bottleneck width multiplier (r = k_r * bw / 64 / bw_factor).
    groups: groups of the 3x3 convolutions.
    num_init_features: stem width.
    small: DPN-68 style: 3x3 stem and residual widths 64, 128, 256, 512 (else 4x wider, 7x7 stem).
    small_inputs: stride-1 3x3 stem without max pool for 28x28 / 32x32 images.
    dropout: dropout rate before the classifier (timm `drop_rate`, default 0); needs a 'dropout'
      rng when > 0.
    dtype: compute dtype; parameters stay float32. Logits are returned as float32.
  """
  num_classes: int
  k_sec: Sequence[int]
  inc_sec: Sequence[int]
  k_r: int
  groups: int
  num_init_features: int
  small: bool = False
  small_inputs: bool = False
  dropout: float = 0.0
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, x: jnp.ndarray, train: bool = False) -> jnp.ndarray:
    check_args(x)
    x = jnp.asarray(x, self.dtype)
    x = stem(x, self.num_init_features, 3 if self.small else 7, self.small_inputs, train,
             self.dtype, names=("conv1_1", "conv1_1_bn"), eps=1e-3, kernel_init=torch_default_init)

    bw_factor = 1 if self.small else 4
    for stage, (blocks, inc) in enumerate(zip(self.k_sec, self.inc_sec)):
      bw = 64 * 2**stage * bw_factor
      r = self.k_r * bw // (64 * bw_factor)
      for i in range(blocks):
        block_type = "normal" if i else ("proj" if stage == 0 else "down")
        x = DualPathBlock(r, r, bw, inc, self.groups, block_type, self.dtype,
                          name=f"conv{stage + 2}_{i + 1}")(x, train)

    x = jnp.concatenate(x, axis=-1)
    x = nn.elu(_batch_norm(train, self.dtype, "conv5_bn_ac")(x))  # timm's fc_act_layer='elu'
    return classifier_head(x, self.num_classes, train, self.dtype, self.dropout)


# name: (small, num_init_features, k_r, groups, k_sec, inc_sec), from timm's registrations.
_CONFIGS = {
    "dpn68": (True, 10, 128, 32, (3, 4, 12, 3), (16, 32, 32, 64)),
    "dpn92": (False, 64, 96, 32, (3, 4, 20, 3), (16, 32, 24, 128)),
    "dpn98": (False, 96, 160, 40, (3, 6, 20, 3), (16, 32, 32, 128)),
    "dpn131": (False, 128, 160, 40, (4, 8, 28, 3), (16, 32, 32, 128)),
    "dpn107": (False, 128, 200, 50, (4, 8, 20, 3), (20, 64, 64, 128)),
}


def _make(name: str):
  small, init, k_r, groups, k_sec, inc_sec = _CONFIGS[name]

  def build(num_classes: int = 1000, small_inputs: bool = False, dtype: Any = jnp.float32,
            dropout: float = 0.0) -> DPN:
    check_config(num_classes)
    check_rate("dropout", dropout)
    return DPN(num_classes=num_classes, k_sec=k_sec, inc_sec=inc_sec, k_r=k_r, groups=groups,
               num_init_features=init, small=small, small_inputs=small_inputs, dropout=dropout,
               dtype=dtype)

  build.__name__ = name
  build.__doc__ = f"Builds {name} (timm `{name}`); see `DPN` for the arguments."
  return register(name)(build)


for _name in _CONFIGS:
  _make(_name)
