"""NASNet-A: NASNet-A-Mobile (4 @ 1056) and NASNet-A-Large (6 @ 4032).

Zoph et al. 2018, "Learning Transferable Architectures for Scalable Image Recognition" (CVPR,
arXiv:1707.07012). The network stacks searched Normal cells (keep resolution) and Reduction cells
(halve it) (Sec. 3, Fig. 2 and Fig. 4).

Matches keras `keras/applications/nasnet.py` (`NASNetMobile`, `NASNetLarge`): the two stem reduction
cells, `_adjust_block` (factorized reduction or 1x1 projection of the previous cell's output), the
keras cell wiring and padding (`correct_pad` before stride-2 ops, zero-padded pooling in reduction
cells, 'same' average pooling that excludes padding), BatchNorm momentum 0.9997 and epsilon 1e-3,
`skip_reduction`, no auxiliary head and no dropout by default. Parameter counts at num_classes=1000
equal keras's: mobile 5,326,716 total (5,289,978 trainable), large 88,949,818 total (88,753,150
trainable); here the trainable ones are `params` and the BN moving statistics are `batch_stats`.
With keras's weights copied in, the logits agree with keras to ~3e-5 (eval and train mode; opt-in
test in tests/test_classifiers_c.py). Initialisers follow keras too: he_normal for plain convs,
Glorot-uniform for the separable convs and the classifier.

`small_inputs=True` (for 28x28 / 32x32 images) uses the paper's CIFAR-10 stem instead (Fig. 2 left,
TF-slim `build_nasnet_cifar`): a stride-1 3x3 convolution and no stem reduction cells, the first
Normal cell taking the stem output as both of its inputs. The three stages then run at 1/1, 1/2 and
1/4 of the input size instead of 1/8 .. 1/32.
"""
import functools
from typing import Any, Optional

import flax.linen as nn
import jax.numpy as jnp

from gans.errors import UserError
from gans.models import layers
from gans.models.classifiers import register
from gans.models.classifiers.blocks import batch_norm, check_args, check_config, check_rate, classifier_head

_he_normal = nn.initializers.variance_scaling(2.0, "fan_in", "truncated_normal")  # keras he_normal
_glorot = nn.initializers.xavier_uniform()  # keras default for SeparableConv2D and Dense kernels
Pads = tuple[tuple[int, int], tuple[int, int]]


def _correct_pad(x: jnp.ndarray, kernel_size: int) -> Pads:
  """keras `imagenet_utils.correct_pad`: the padding of a stride-2 'valid' op on NHWC `x`."""
  k = kernel_size // 2
  h, w = x.shape[1:3]
  return (k - 1 + h % 2, k), (k - 1 + w % 2, k)


_batch_norm = functools.partial(batch_norm, eps=1e-3, momentum=0.9997)  # keras NASNet's


def _conv1x1(features: int, dtype: Any, name: str) -> nn.Conv:
  return nn.Conv(features, (1, 1), use_bias=False, kernel_init=_he_normal, dtype=dtype, name=name)


def _avg_pool_same(x: jnp.ndarray) -> jnp.ndarray:
  """3x3 stride-1 'same' average pool; like TF, the padded zeros are not counted."""
  return nn.avg_pool(x, (3, 3), padding="SAME", count_include_pad=False)


class SeparableConvBlock(nn.Module):
  """Two rounds of ReLU -> separable conv -> BN (keras `_separable_conv_block`)."""
  filters: int
  kernel_size: int
  stride: int = 1
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, x: jnp.ndarray, train: bool) -> jnp.ndarray:
    k = self.kernel_size
    for i, stride in ((1, self.stride), (2, 1)):
      x = nn.relu(x)
      pad = _correct_pad(x, k) if stride == 2 else "SAME"
      x = nn.Conv(x.shape[-1], (k, k), (stride, stride), padding=pad,
                  feature_group_count=x.shape[-1], conv_general_dilated=layers.conv_general_dilated,
                  use_bias=False, kernel_init=_glorot,
                  dtype=self.dtype, name=f"depthwise_{i}")(x)
      x = nn.Conv(self.filters, (1, 1), use_bias=False, kernel_init=_glorot, dtype=self.dtype,
                  name=f"pointwise_{i}")(x)
      x = _batch_norm(train, self.dtype, f"bn_{i}")(x)
    return x


class AdjustBlock(nn.Module):
  """Matches the previous cell's output `p` to the current input (keras `_adjust_block`).

  A higher-resolution `p` goes through a factorized reduction (two offset stride-2 1x1 paths, each
  `filters // 2` wide: TF-slim's "factorized reduction"); a `p` of the right size but another width
  through a ReLU-1x1 conv-BN projection.
  """
  filters: int
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, p: jnp.ndarray, ip: jnp.ndarray, train: bool) -> jnp.ndarray:
    if p.shape[1:3] != ip.shape[1:3]:
      p = nn.relu(p)
      p1 = p[:, ::2, ::2]
      # keras: ZeroPadding2D(((0, 1), (0, 1))) then Cropping2D(((1, 0), (1, 0))), i.e. shift by one.
      p2 = jnp.pad(p[:, 1:, 1:], ((0, 0), (0, 1), (0, 1), (0, 0)))[:, ::2, ::2]
      p = jnp.concatenate([_conv1x1(self.filters // 2, self.dtype, "conv_1")(p1),
                           _conv1x1(self.filters // 2, self.dtype, "conv_2")(p2)], axis=-1)
      p = _batch_norm(train, self.dtype, "bn")(p)
    elif p.shape[-1] != self.filters:
      p = _conv1x1(self.filters, self.dtype, "conv_projection")(nn.relu(p))
      p = _batch_norm(train, self.dtype, "bn")(p)
    return p


def _cell_input(ip: jnp.ndarray, p: Optional[jnp.ndarray], filters: int, dtype: Any,
                train: bool) -> tuple[jnp.ndarray, jnp.ndarray]:
  """Shared head of both cells: the adjusted `p` and h = BN(conv1x1(ReLU(ip)))."""
  # keras uses `p = ip` unchanged when there is no previous cell (the first stem cell).
  p = ip if p is None else AdjustBlock(filters, dtype, name="adjust")(p, ip, train)
  h = _batch_norm(train, dtype, "bn_1")(_conv1x1(filters, dtype, "conv_1")(nn.relu(ip)))
  return p, h


class NormalCell(nn.Module):
  """NASNet-A Normal cell (Zoph et al. 2018, Fig. 4 left); output width 6 * filters."""
  filters: int
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, ip: jnp.ndarray, p: Optional[jnp.ndarray],
               train: bool) -> tuple[jnp.ndarray, jnp.ndarray]:
    p, h = _cell_input(ip, p, self.filters, self.dtype, train)
    sep = lambda x, k, name: SeparableConvBlock(self.filters, k, 1, self.dtype, name=name)(x, train)
    x1 = sep(h, 5, "left1") + sep(p, 3, "right1")
    x2 = sep(p, 5, "left2") + sep(p, 3, "right2")
    x3 = _avg_pool_same(h) + p
    x4 = _avg_pool_same(p) + _avg_pool_same(p)  # as in keras (two parameter-free branches)
    x5 = sep(h, 3, "left5") + h
    return jnp.concatenate([p, x1, x2, x3, x4, x5], axis=-1), ip


class ReductionCell(nn.Module):
  """NASNet-A Reduction cell (Zoph et al. 2018, Fig. 4 right); halves H, W; width 4 * filters."""
  filters: int
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, ip: jnp.ndarray, p: Optional[jnp.ndarray],
               train: bool) -> tuple[jnp.ndarray, jnp.ndarray]:
    p, h = _cell_input(ip, p, self.filters, self.dtype, train)
    sep = lambda x, k, name: SeparableConvBlock(self.filters, k, 2, self.dtype, name=name)(x, train)
    # Pools on h see keras's explicit zero padding (counted in the average, maxed over).
    h3 = jnp.pad(h, ((0, 0), *_correct_pad(h, 3), (0, 0)))
    max_pool = nn.max_pool(h3, (3, 3), (2, 2), padding="VALID")
    avg_pool = nn.avg_pool(h3, (3, 3), (2, 2), padding="VALID")
    x1 = sep(h, 5, "left1") + sep(p, 7, "right1")
    x2 = max_pool + sep(p, 7, "right2")
    x3 = avg_pool + sep(p, 5, "right3")
    x4 = _avg_pool_same(x1) + x2
    # keras names this stride-1 block 'reduction_left4'; kept for weight conversion.
    x5 = SeparableConvBlock(self.filters, 3, 1, self.dtype, name="left4")(x1, train) + max_pool
    return jnp.concatenate([x2, x3, x4, x5], axis=-1), ip


class NASNet(nn.Module):
  """NASNet-A (keras `NASNet`): stem, then 3 stages of `num_blocks` Normal cells with a Reduction
  cell between stages; cell width `penultimate_filters // 24`, times `filter_multiplier` per stage.

  Attributes:
    num_classes: number of logits.
    penultimate_filters: width of the last cells' output (6 * cell width).
    num_blocks: Normal cells per stage (N in "NASNet-A (N @ P)").
    stem_filters: width of the stem convolution.
    skip_reduction: after a Reduction cell, feed the next Normal cell the cell before it
      (keras `skip_reduction`, True for Large) instead of the Reduction cell's input.
    filter_multiplier: width growth per stage.
    small_inputs: the paper's CIFAR stem (stride-1 conv, no stem Reduction cells).
    dropout: dropout rate before the classifier (keras: none); needs a 'dropout' rng when > 0.
    dtype: compute dtype; parameters stay float32. Logits are returned as float32.
  """
  num_classes: int
  penultimate_filters: int
  num_blocks: int
  stem_filters: int
  skip_reduction: bool
  filter_multiplier: int = 2
  small_inputs: bool = False
  dropout: float = 0.0
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, x: jnp.ndarray, train: bool = False) -> jnp.ndarray:
    fm, nb = self.filter_multiplier, self.num_blocks
    if self.penultimate_filters % (24 * fm**2) or nb < 1:
      raise UserError(f"NASNet needs penultimate_filters a multiple of 24 * filter_multiplier**2 "
                      f"and num_blocks >= 1; got {self.penultimate_filters} and {nb}")
    check_args(x)
    filters = self.penultimate_filters // 24
    x = jnp.asarray(x, self.dtype)
    if self.small_inputs:
      x = nn.Conv(self.stem_filters, (3, 3), padding="SAME", use_bias=False,
                  kernel_init=_he_normal, dtype=self.dtype, name="stem_conv1")(x)
      x = _batch_norm(train, self.dtype, "stem_bn1")(x)
      p = x  # the first Normal cell projects the stem output onto its width
    else:
      x = nn.Conv(self.stem_filters, (3, 3), (2, 2), padding="VALID", use_bias=False,
                  kernel_init=_he_normal, dtype=self.dtype, name="stem_conv1")(x)
      x = _batch_norm(train, self.dtype, "stem_bn1")(x)
      x, p = ReductionCell(filters // fm**2, self.dtype, name="stem_1")(x, None, train)
      x, p = ReductionCell(filters // fm, self.dtype, name="stem_2")(x, p, train)
    for stage in range(3):
      width = filters * fm**stage
      if stage:
        x, p_reduce = ReductionCell(width, self.dtype, name=f"reduce_{stage * nb}")(x, p, train)
        p = p if self.skip_reduction else p_reduce
      for i in range(nb):
        cell_id = i if stage == 0 else stage * nb + i + 1  # keras block ids
        x, p = NormalCell(width, self.dtype, name=f"normal_{cell_id}")(x, p, train)
    return classifier_head(nn.relu(x), self.num_classes, train, self.dtype, self.dropout, _glorot,
                           name="predictions")


def _make(name: str, penultimate_filters: int, num_blocks: int, stem_filters: int,
          skip_reduction: bool, doc: str):
  def build(num_classes: int = 1000, small_inputs: bool = False, dtype: Any = jnp.float32,
            dropout: float = 0.0) -> NASNet:
    check_config(num_classes)
    check_rate("dropout", dropout)
    return NASNet(num_classes, penultimate_filters, num_blocks, stem_filters, skip_reduction,
                  small_inputs=small_inputs, dropout=dropout, dtype=dtype)

  build.__name__ = name
  build.__doc__ = doc
  return register(name)(build)


nasnet_a_mobile = _make("nasnet_a_mobile", 1056, 4, 32, False,
                        "NASNet-A-Mobile, 4 @ 1056 (keras `NASNetMobile`, 224x224 inputs).")
nasnet_a_large = _make("nasnet_a_large", 4032, 6, 96, True,
                       "NASNet-A-Large, 6 @ 4032 (keras `NASNetLarge`, 331x331 inputs).")
