"""GoogLeNet, Inception v3 and Inception-ResNet-v2 classifiers.

Papers: Szegedy et al. 2015, "Going Deeper with Convolutions" (CVPR; GoogLeNet, Fig. 2b, Table 1,
auxiliary classifiers Sec. 5); Szegedy et al. 2016, "Rethinking the Inception Architecture for
Computer Vision" (CVPR; Inception v3, Table 1, Fig. 5-7 and 10, auxiliary head Sec. 4); Szegedy et
al. 2017, "Inception-v4, Inception-ResNet and the Impact of Residual Connections on Learning" (AAAI;
Inception-ResNet-v2, Fig. 7, 16-19, residuals scaled by 0.1-0.3, Sec. 3.3).

References matched layer for layer, all with bias-free conv -> BatchNorm (eps 1e-3) -> ReLU units:
- `googlenet`: torchvision `googlenet.py` (its Inception "5x5" branch uses a 3x3 conv, kept so the
  count matches): 6,624,904 trainable parameters at 224x224x3, 1000 classes; 13,004,888 with
  `aux_logits=True`. Weights start as N(0, 0.01^2) (torchvision's truncation at +-2 is inert).
- `inception_v3`: torchvision `inception.py`: 23,834,568 at 299x299x3; 27,161,264 with the auxiliary
  head. Weights N(0, 0.1^2) (aux: 0.01 for its 5x5 conv, 0.001 for its fc).
- `inception_resnet_v2`: timm `inception_resnet_v2.py` (TF-slim's layout: the Inception v3 stem and
  a Mixed_5b block instead of the paper's Fig. 3 stem): 55,843,464 at 299x299x3. PyTorch default
  init. Its repeated blocks run under `nn.scan` (one compiled block per stage), so their variables
  are stacked on a leading axis: block35 [10, ...], block17 [20, ...], block8 [9, ...], then
  block8_last.

Auxiliary heads (`aux_logits=True`) run when training and are returned through Flax's `sow`: call
`apply(..., mutable=["batch_stats", "intermediates"])` and read `intermediates["aux_logits"]`, a
tuple of [B, num_classes] float32 logits (GoogLeNet: aux1 after 4a then aux2 after 4d; its paper
adds each loss with weight 0.3, TF-slim weighs Inception v3's by 0.4). The main output is always the
logits.

`small_inputs=True` (28x28 / 32x32 images) keeps every kernel (parameter counts are unchanged) and
removes stride from the stem: GoogLeNet's 7x7 conv gets stride 1 and its first max-pool goes (blocks
at 1/2, 1/4, 1/8 of the input instead of 1/8 .. 1/32); Inception v3 and Inception-ResNet-v2 give
conv1a stride 1 and drop the first max-pool (32x32 -> 12x12 at the 35x35 blocks, 5x5 at the 17x17
blocks, 2x2 at the 8x8 blocks). Inception v3's auxiliary head then skips its 5x5/3 average pool and
pads its 5x5 conv ("SAME"), as the 17x17-grid map is only 4-5 wide.
"""
from typing import Any, Callable, Sequence

import flax.linen as nn
import jax.numpy as jnp

from gans.models.classifiers import register
from gans.models.classifiers.blocks import (
  BasicConv,
  adaptive_avg_pool,
  check_args,
  check_config,
  check_rate,
  classifier_head,
  max_pool,
  torch_default_init,
)

# A BasicConv spec: (features, kernel[, stride[, padding]]); kernel/padding an int or (h, w) pair.
Spec = tuple


def tower(x: jnp.ndarray, specs: Sequence[Spec], train: bool, name: str, **kw) -> jnp.ndarray:
  """Applies BasicConv(*spec, **kw) for each spec; the convs are named f"{name}_{i}".

  Call inside a compact method.
  """
  for i, spec in enumerate(specs):
    x = BasicConv(*spec, name=f"{name}_{i}", **kw)(x, train)
  return x


def repeat(block: nn.Module, n: int, x: jnp.ndarray, train: bool) -> jnp.ndarray:
  """Applies `n` copies of `block` in sequence, each with its own variables, with `nn.scan`.

  The copies' variables are stacked on a leading axis of size n; XLA compiles one block, not n.
  Call inside a compact method, with `block` an unbound child module `(x, train) -> x`.
  """
  scan = nn.scan(lambda module, carry, _: (module(carry, train), None),
                 variable_axes={"params": 0, "batch_stats": 0, "intermediates": 0},
                 split_rngs={"params": True, "dropout": True}, length=n)
  return scan(block, x, None)[0]


def _pool(x: jnp.ndarray, kind: str) -> jnp.ndarray:
  if kind == "max":  # grid reduction: 3x3 stride 2, no padding
    return max_pool(x, 3, 2)
  if kind == "max_same":  # GoogLeNet's pool branch: 3x3 stride 1 padding 1
    return max_pool(x, 3, 1, 1)
  # 3x3 stride-1 average pool with padding 1; torch counts the padded zeros unless "exclude_pad".
  return nn.avg_pool(x, (3, 3), (1, 1), ((1, 1), (1, 1)), count_include_pad=kind == "avg")


class Mixed(nn.Module):
  """An Inception module: conv towers and a pooling branch, concatenated on channels.

  Attributes:
    towers: each a sequence of BasicConv specs applied in order.
    pool: "max" (3x3/2, grid reduction), "max_same" (3x3/1 pad 1), "avg" or "avg_exclude_pad"
      (3x3/1 pad 1, padded zeros counted or not).
    pool_proj: channels of a 1x1 BasicConv after the pool (0: none).
    kernel_init: conv weight initializer.
    dtype: compute dtype.
  """
  towers: Sequence[Sequence[Spec]]
  pool: str = "max"
  pool_proj: int = 0
  kernel_init: Callable = torch_default_init
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, x: jnp.ndarray, train: bool) -> jnp.ndarray:
    kw = dict(kernel_init=self.kernel_init, dtype=self.dtype)
    out = [tower(x, specs, train, f"b{i}", **kw) for i, specs in enumerate(self.towers)]
    pooled = _pool(x, self.pool)
    if self.pool_proj:
      pooled = BasicConv(self.pool_proj, name="pool_proj", **kw)(pooled, train)
    return jnp.concatenate(out + [pooled], axis=-1)


# ---------------------------------------------------------------------------------------------
# GoogLeNet
# ---------------------------------------------------------------------------------------------
_GOOGLENET_INIT = nn.initializers.normal(0.01)
# Table 1: #1x1, #3x3 reduce, #3x3, #5x5 reduce, #5x5, pool proj; an int k marks a kxk stride-2
# ceil-mode max-pool (torchvision's 2x2 before 5a).
_GOOGLENET_BLOCKS = (
    ("3a", (64, 96, 128, 16, 32, 32)), ("3b", (128, 128, 192, 32, 96, 64)), 3,
    ("4a", (192, 96, 208, 16, 48, 64)), ("4b", (160, 112, 224, 24, 64, 64)),
    ("4c", (128, 128, 256, 24, 64, 64)), ("4d", (112, 144, 288, 32, 64, 64)),
    ("4e", (256, 160, 320, 32, 128, 128)), 2,
    ("5a", (256, 160, 320, 32, 128, 128)), ("5b", (384, 192, 384, 48, 128, 128)),
)


class GoogLeNetAux(nn.Module):
  """Auxiliary classifier (Sec. 5): 4x4 average pool, 1x1 conv 128, fc 1024, dropout 0.7, fc."""
  num_classes: int
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, x: jnp.ndarray, train: bool) -> jnp.ndarray:
    x = adaptive_avg_pool(x, 4)  # = the paper's 5x5/3 average pool on the 14x14 map
    x = BasicConv(128, kernel_init=_GOOGLENET_INIT, dtype=self.dtype, name="conv")(x, train)
    x = nn.Dense(1024, kernel_init=_GOOGLENET_INIT, dtype=self.dtype, name="fc1")(
        x.reshape(x.shape[0], -1))
    x = nn.Dropout(0.7, deterministic=not train)(nn.relu(x))
    x = nn.Dense(self.num_classes, kernel_init=_GOOGLENET_INIT, dtype=self.dtype, name="fc2")(x)
    return jnp.asarray(x, jnp.float32)


class GoogLeNet(nn.Module):
  """GoogLeNet (Inception v1) as torchvision, without its optional input transform.

  Attributes:
    num_classes: number of logits.
    aux_logits: add the two auxiliary classifiers (after 4a and 4d; the paper adds their losses
      with weight 0.3); their logits are sown to "intermediates"/"aux_logits" when training.
    dropout: dropout rate before the classifier (torchvision 0.2; the paper 0.4).
    small_inputs: stride-1 first conv and no first max-pool, for 28x28 / 32x32 images.
    dtype: compute dtype; parameters stay float32 and the logits are float32.
  """
  num_classes: int = 1000
  aux_logits: bool = False
  dropout: float = 0.2
  small_inputs: bool = False
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, x: jnp.ndarray, train: bool = False) -> jnp.ndarray:
    check_args(x)
    kw = dict(kernel_init=_GOOGLENET_INIT, dtype=self.dtype)
    x = BasicConv(64, 7, 1 if self.small_inputs else 2, 3, name="conv1", **kw)(
        x.astype(self.dtype), train)
    if not self.small_inputs:
      x = max_pool(x, 3, 2, ceil_mode=True)
    x = BasicConv(64, 1, name="conv2", **kw)(x, train)
    x = BasicConv(192, 3, 1, 1, name="conv3", **kw)(x, train)
    x = max_pool(x, 3, 2, ceil_mode=True)
    for block in _GOOGLENET_BLOCKS:
      if isinstance(block, int):
        x = max_pool(x, block, 2, ceil_mode=True)
        continue
      name, (c1, c3r, c3, c5r, c5, proj) = block
      towers = (((c1, 1),), ((c3r, 1), (c3, 3, 1, 1)), ((c5r, 1), (c5, 3, 1, 1)))
      x = Mixed(towers, "max_same", proj, name=f"inception{name}", **kw)(x, train)
      if self.aux_logits and name in ("4a", "4d") and (train or self.is_initializing()):
        aux = GoogLeNetAux(self.num_classes, self.dtype, name=f"aux{1 if name == '4a' else 2}")
        self.sow("intermediates", "aux_logits", aux(x, train))
    return classifier_head(x, self.num_classes, train, self.dtype, self.dropout, _GOOGLENET_INIT)


@register("googlenet")
def googlenet(num_classes: int = 1000, small_inputs: bool = False, dtype: Any = jnp.float32,
              aux_logits: bool = False, dropout: float = 0.2) -> GoogLeNet:
  """torchvision GoogLeNet; see `GoogLeNet` for the arguments."""
  check_config(num_classes)
  check_rate("dropout", dropout)
  return GoogLeNet(num_classes, aux_logits, dropout, small_inputs, dtype)


# ---------------------------------------------------------------------------------------------
# Inception v3 and Inception-ResNet-v2 (they share the stem)
# ---------------------------------------------------------------------------------------------
_V3_INIT = nn.initializers.normal(0.1)


def _row(features: int, k: int) -> Spec:
  """A 1xk conv with "same" padding (Szegedy et al. 2016, Sec. 3.2 asymmetric factorisation)."""
  return (features, (1, k), 1, (0, k // 2))


def _col(features: int, k: int) -> Spec:
  """A kx1 conv with "same" padding."""
  return (features, (k, 1), 1, (k // 2, 0))


def _stem(x: jnp.ndarray, small_inputs: bool, train: bool, **kw) -> jnp.ndarray:
  """Inception v3 stem (Table 1 rows 1-7): 299x299x3 -> 35x35x192. Call inside a compact method."""
  x = BasicConv(32, 3, 1 if small_inputs else 2, name="conv1a", **kw)(x, train)
  x = BasicConv(32, 3, name="conv2a", **kw)(x, train)
  x = BasicConv(64, 3, 1, 1, name="conv2b", **kw)(x, train)
  if not small_inputs:
    x = max_pool(x, 3, 2)
  x = BasicConv(80, 1, name="conv3b", **kw)(x, train)
  x = BasicConv(192, 3, name="conv4a", **kw)(x, train)
  return max_pool(x, 3, 2)


def _v3_a(pool_features: int):
  """35x35 module, the 5x5 factorised into two 3x3 in one tower (Fig. 5); torchvision InceptionA."""
  return dict(towers=(((64, 1),), ((48, 1), (64, 5, 1, 2)),
                      ((64, 1), (96, 3, 1, 1), (96, 3, 1, 1))),
              pool="avg", pool_proj=pool_features)


def _v3_c(c7: int):
  """17x17 module with 1x7 / 7x1 factorisation (Fig. 6, n=7); torchvision InceptionC."""
  return dict(towers=(((192, 1),), ((c7, 1), _row(c7, 7), _col(192, 7)),
                      ((c7, 1), _col(c7, 7), _row(c7, 7), _col(c7, 7), _row(192, 7))),
              pool="avg", pool_proj=192)


# Grid reductions (Fig. 10): torchvision InceptionB (35 -> 17) and InceptionD (17 -> 8).
_V3_B = dict(towers=(((384, 3, 2),), ((64, 1), (96, 3, 1, 1), (96, 3, 2))))
_V3_D = dict(towers=(((192, 1), (320, 3, 2)), ((192, 1), _row(192, 7), _col(192, 7), (192, 3, 2))))


class InceptionE(nn.Module):
  """8x8 module with expanded filter banks (Fig. 7): towers end in parallel 1x3 and 3x1 convs."""
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, x: jnp.ndarray, train: bool) -> jnp.ndarray:
    kw = dict(kernel_init=_V3_INIT, dtype=self.dtype)

    def fork(y, name):
      return [tower(y, [_row(384, 3)], train, f"{name}a", **kw),
              tower(y, [_col(384, 3)], train, f"{name}b", **kw)]

    out = [tower(x, [(320, 1)], train, "b0", **kw)]
    out += fork(tower(x, [(384, 1)], train, "b1", **kw), "b1")
    out += fork(tower(x, [(448, 1), (384, 3, 1, 1)], train, "b2", **kw), "b2")
    out.append(BasicConv(192, name="pool_proj", **kw)(_pool(x, "avg"), train))
    return jnp.concatenate(out, axis=-1)


class InceptionV3Aux(nn.Module):
  """Auxiliary head on the 17x17 grid: 5x5/3 avg pool, 1x1 conv 128, 5x5 conv 768, pool, fc."""
  num_classes: int
  small_inputs: bool = False
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, x: jnp.ndarray, train: bool) -> jnp.ndarray:
    if not self.small_inputs:
      x = nn.avg_pool(x, (5, 5), (3, 3))
    x = BasicConv(128, kernel_init=_V3_INIT, dtype=self.dtype, name="conv0")(x, train)
    x = BasicConv(768, 5, padding="SAME" if self.small_inputs else 0,
                  kernel_init=nn.initializers.normal(0.01), dtype=self.dtype,
                  name="conv1")(x, train)
    return classifier_head(x, self.num_classes, train, self.dtype,
                           kernel_init=nn.initializers.normal(0.001))


class InceptionV3(nn.Module):
  """Inception v3 as torchvision (Table 1 of Szegedy et al. 2016), without the input transform.

  Attributes:
    num_classes: number of logits.
    aux_logits: add the auxiliary head after Mixed_6e; its logits are sown to
      "intermediates"/"aux_logits" when training.
    dropout: dropout rate before the classifier.
    small_inputs: stride-1 Conv2d_1a and no first max-pool, for 28x28 / 32x32 images.
    dtype: compute dtype; parameters stay float32 and the logits are float32.
  """
  num_classes: int = 1000
  aux_logits: bool = False
  dropout: float = 0.5
  small_inputs: bool = False
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, x: jnp.ndarray, train: bool = False) -> jnp.ndarray:
    check_args(x)
    kw = dict(kernel_init=_V3_INIT, dtype=self.dtype)
    x = _stem(x.astype(self.dtype), self.small_inputs, train, **kw)
    blocks = [("Mixed_5b", _v3_a(32)), ("Mixed_5c", _v3_a(64)), ("Mixed_5d", _v3_a(64)),
              ("Mixed_6a", _V3_B), ("Mixed_6b", _v3_c(128)), ("Mixed_6c", _v3_c(160)),
              ("Mixed_6d", _v3_c(160)), ("Mixed_6e", _v3_c(192)), ("Mixed_7a", _V3_D)]
    for name, block in blocks:
      if name == "Mixed_7a" and self.aux_logits and (train or self.is_initializing()):
        aux = InceptionV3Aux(self.num_classes, self.small_inputs, self.dtype, name="AuxLogits")
        self.sow("intermediates", "aux_logits", aux(x, train))
      x = Mixed(**block, name=name, **kw)(x, train)
    x = InceptionE(self.dtype, name="Mixed_7b")(x, train)
    x = InceptionE(self.dtype, name="Mixed_7c")(x, train)
    return classifier_head(x, self.num_classes, train, self.dtype, self.dropout, _V3_INIT)


@register("inception_v3")
def inception_v3(num_classes: int = 1000, small_inputs: bool = False, dtype: Any = jnp.float32,
                 aux_logits: bool = False, dropout: float = 0.5) -> InceptionV3:
  """torchvision Inception v3; see `InceptionV3` for the arguments."""
  check_config(num_classes)
  check_rate("dropout", dropout)
  return InceptionV3(num_classes, aux_logits, dropout, small_inputs, dtype)


class InceptionResNetBlock(nn.Module):
  """Inception-ResNet-A/B/C (Fig. 16, 17, 19): relu(x + scale * conv1x1(concat(towers)))."""
  towers: Sequence[Sequence[Spec]]
  scale: float
  relu: bool = True
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, x: jnp.ndarray, train: bool) -> jnp.ndarray:
    y = jnp.concatenate([tower(x, specs, train, f"b{i}", dtype=self.dtype)
                         for i, specs in enumerate(self.towers)], axis=-1)
    y = nn.Conv(x.shape[-1], (1, 1), kernel_init=torch_default_init, dtype=self.dtype,
                name="conv")(y)  # linear, with bias, no BatchNorm
    x = x + self.scale * y  # residual scaling, Sec. 3.3
    return nn.relu(x) if self.relu else x


_IR_A = (((32, 1),), ((32, 1), (32, 3, 1, 1)), ((32, 1), (48, 3, 1, 1), (64, 3, 1, 1)))
_IR_B = (((192, 1),), ((128, 1), _row(160, 7), _col(192, 7)))
_IR_C = (((192, 1),), ((192, 1), _row(224, 3), _col(256, 3)))
_MIXED_5B = dict(towers=(((96, 1),), ((48, 1), (64, 5, 1, 2)),
                         ((64, 1), (96, 3, 1, 1), (96, 3, 1, 1))),
                 pool="avg_exclude_pad", pool_proj=64)
_MIXED_6A = dict(towers=(((384, 3, 2),), ((256, 1), (256, 3, 1, 1), (384, 3, 2))))  # Fig. 7
_MIXED_7A = dict(towers=(((256, 1), (384, 3, 2)), ((256, 1), (288, 3, 2)),  # Fig. 18
                         ((256, 1), (288, 3, 1, 1), (320, 3, 2))))


class InceptionResNetV2(nn.Module):
  """Inception-ResNet-v2 as timm: stem, Mixed_5b, 10 A blocks, reduction, 20 B, reduction, 10 C.

  Attributes:
    num_classes: number of logits.
    dropout: dropout rate before the classifier (timm's default 0).
    small_inputs: stride-1 conv2d_1a and no first max-pool, for 28x28 / 32x32 images.
    dtype: compute dtype; parameters stay float32 and the logits are float32.
  """
  num_classes: int = 1000
  dropout: float = 0.0
  small_inputs: bool = False
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, x: jnp.ndarray, train: bool = False) -> jnp.ndarray:
    check_args(x)
    kw = dict(dtype=self.dtype)
    x = _stem(x.astype(self.dtype), self.small_inputs, train, **kw)
    x = Mixed(**_MIXED_5B, name="mixed_5b", **kw)(x, train)
    x = repeat(InceptionResNetBlock(_IR_A, 0.17, name="block35", **kw), 10, x, train)
    x = Mixed(**_MIXED_6A, name="mixed_6a", **kw)(x, train)
    x = repeat(InceptionResNetBlock(_IR_B, 0.10, name="block17", **kw), 20, x, train)
    x = Mixed(**_MIXED_7A, name="mixed_7a", **kw)(x, train)
    x = repeat(InceptionResNetBlock(_IR_C, 0.20, name="block8", **kw), 9, x, train)
    # The last 8x8 block: scale 1 and no ReLU (as TF-slim and timm).
    x = InceptionResNetBlock(_IR_C, 1.0, relu=False, name="block8_last", **kw)(x, train)
    x = BasicConv(1536, name="conv2d_7b", **kw)(x, train)
    return classifier_head(x, self.num_classes, train, self.dtype, self.dropout)


@register("inception_resnet_v2")
def inception_resnet_v2(num_classes: int = 1000, small_inputs: bool = False,
                        dtype: Any = jnp.float32, dropout: float = 0.0) -> InceptionResNetV2:
  """timm Inception-ResNet-v2; see `InceptionResNetV2` for the arguments."""
  check_config(num_classes)
  check_rate("dropout", dropout)
  return InceptionResNetV2(num_classes, dropout, small_inputs, dtype)
