"""LeNet-5 classifier.

LeCun, Bottou, Bengio & Haffner 1998, "Gradient-Based Learning Applied to Document Recognition"
(Proc. IEEE), Sec. II-B, Fig. 2, Table I and Appendix A, with no reference implementation to match
beyond the paper:
- input 32x32 (a 28x28 image is padded by 2 pixels of its border value, as MNIST digits were centred
  in a 32x32 field);
- C1: 6 maps of 5x5 convs (156 parameters); S2: per map, the sum of each 2x2 block times a trainable
  coefficient plus a trainable bias (12); C3: 16 maps of 5x5 convs, map j reading only the S2 maps
  of Table I (6 maps x 3 inputs, 9 x 4, 1 x 6: 25 * 60 weights + 16 biases = 1,516); S4 as S2 (32);
  C5: 120 maps of 5x5 convs, 1x1 outputs (48,120); F6: 84 units (10,164);
- every unit up to F6 squashed by f(a) = 1.7159 tanh(2a/3) (Appendix A);
- output: Euclidean RBF units y_i = sum_j (x_j - w_ij)^2 whose centres w_i are fixed +-1 7x12
  bitmaps of the digits ("chosen by hand and kept fixed", Sec. II-B); the logits are -y_i, so
  softmax cross-entropy on them is the discriminative criterion of Sec. II-C without its constant j
  term;
- weights drawn from U(-2.4/F, 2.4/F) with F the unit's fan-in (Appendix A).

Trainable parameters: 156 + 12 + 1,516 + 32 + 48,120 + 10,164 = 60,000 for one input channel, the
paper's "60,000 trainable parameters" (the 840 RBF centres are constants). `head="dense"` replaces
the RBF by a trainable 84 -> num_classes linear layer (for more than 10 classes).

`small_inputs` is accepted and ignored: LeNet-5 is a small-input network. `dropout` (not in the
paper, which predates it: Srivastava et al. 2014) drops C5's and F6's outputs in training; 0 is the
paper's network.
"""
from typing import Any, Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

from gans.errors import UserError
from gans.models import layers
from gans.models.classifiers import register
from gans.models.classifiers.blocks import check_args, check_config

# Table I: the S2 maps read by each C3 map.
C3_TABLE = ((0, 1, 2), (1, 2, 3), (2, 3, 4), (3, 4, 5), (4, 5, 0), (5, 0, 1),
            (0, 1, 2, 3), (1, 2, 3, 4), (2, 3, 4, 5), (3, 4, 5, 0), (4, 5, 0, 1), (5, 0, 1, 2),
            (0, 1, 3, 4), (1, 2, 4, 5), (0, 2, 3, 5), (0, 1, 2, 3, 4, 5))

# Output RBF centres: the digits 0-9 drawn on 7x12 bitmaps ('#' = +1, '.' = -1), rows top to bottom.
_DIGITS = """
....... ....... ....... ....... ....... ....... ....... ....... ....... .......
..###.. ...#... .#####. .#####. .....#. ####### ..####. ####### .#####. .#####.
.#...#. ..##... #.....# #.....# ....##. #...... .#..... ......# #.....# #.....#
#.....# .#.#... ......# ......# ...#.#. #...... #...... .....#. #.....# #.....#
#.....# ...#... .....#. ......# ..#..#. ######. #...... ....#.. #.....# #.....#
#.....# ...#... ....#.. ..####. .#...#. ......# ######. ...#... .#####. #.....#
#.....# ...#... ...#... ......# #....#. ......# #.....# ...#... #.....# .######
#.....# ...#... ..#.... ......# ####### ......# #.....# ..#.... #.....# ......#
#.....# ...#... .#..... ......# .....#. ......# #.....# ..#.... #.....# ......#
.#...#. ...#... #...... #.....# .....#. #.....# #.....# ..#.... #.....# .....#.
..###.. .#####. ####### .#####. .....#. .#####. .#####. ..#.... .#####. .####..
....... ....... ....... ....... ....... ....... ....... ....... ....... .......
"""


def rbf_centres() -> np.ndarray:
  """[10, 84] array of +-1: row d is the 7x12 bitmap of digit d, flattened row by row."""
  rows = [line.split() for line in _DIGITS.strip().splitlines()]
  return np.array([[1.0 if c == "#" else -1.0 for row in rows for c in row[d]] for d in range(10)],
                  np.float32)


def squash(a: jnp.ndarray) -> jnp.ndarray:
  """f(a) = A tanh(S a) with A = 1.7159, S = 2/3 (Appendix A)."""
  return 1.7159 * jnp.tanh(a * (2.0 / 3.0))


ACTIVATIONS = {"squash": squash, "relu": jax.nn.relu}


def _uniform(fan_in: int):
  """U(-2.4/F, 2.4/F) initializer for a unit of fan-in F (Appendix A)."""
  limit = 2.4 / fan_in

  def init(key, shape, dtype=jnp.float32):
    return jax.random.uniform(key, shape, dtype, -limit, limit)
  return init


def _conv(features: int, fan_in: int, dtype: Any, name: str) -> nn.Conv:
  init = _uniform(fan_in)
  return nn.Conv(features, (5, 5), padding="VALID", kernel_init=init, bias_init=init, dtype=dtype,
                 conv_general_dilated=layers.conv_general_dilated, name=name)


class Subsampling(nn.Module):
  """S2 / S4: per map, coefficient * (sum of each 2x2 block) + bias (Sec. II-B); no squashing."""
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, x: jnp.ndarray) -> jnp.ndarray:
    coef = self.param("coef", _uniform(4), (x.shape[-1],))
    bias = self.param("bias", _uniform(4), (x.shape[-1],))
    pooled = nn.avg_pool(x, (2, 2), (2, 2)) * 4
    return pooled * coef.astype(self.dtype) + bias.astype(self.dtype)


class _TableWeights(nn.Module):
  """The weights of the C3 maps that read `size` inputs each: kernel [5, 5, size, maps] and bias [maps]."""
  size: int
  maps: int

  @nn.compact
  def __call__(self):
    init = _uniform(25 * self.size)
    return self.param("kernel", init, (5, 5, self.size, self.maps)), self.param("bias", init, (self.maps,))


class PartialConv(nn.Module):
  """A 5x5 conv whose output map j reads only the input maps table[j] (C3, Table I).

  Only the table's connections have weights; they are scattered into one dense 6 -> 16 kernel whose
  other entries stay zero, so C3 runs as one ordinary convolution (grouped convolutions are ~90x slower
  on XLA:CPU) and the absent connections get neither weights nor gradients.
  """
  table: Sequence[Sequence[int]]
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, x: jnp.ndarray) -> jnp.ndarray:
    by_size: dict[int, list[int]] = {}
    for j, inputs in enumerate(self.table):
      by_size.setdefault(len(inputs), []).append(j)
    kernel = jnp.zeros((5, 5, x.shape[-1], len(self.table)), jnp.float32)
    bias = jnp.zeros((len(self.table),), jnp.float32)
    for size, maps in sorted(by_size.items()):
      k, b = _TableWeights(size, len(maps), name=f"from{size}")()
      group, tap = np.repeat(np.arange(len(maps)), size), np.tile(np.arange(size), len(maps))
      rows = np.array([self.table[maps[g]][t] for g, t in zip(group, tap)])
      kernel = kernel.at[:, :, rows, np.array(maps)[group]].set(k[:, :, tap, group])
      bias = bias.at[np.array(maps)].set(b)
    y = layers.conv_general_dilated(x.astype(self.dtype), kernel.astype(self.dtype), (1, 1), "VALID",
                                    dimension_numbers=("NHWC", "HWIO", "NHWC"))
    return y + bias.astype(self.dtype)


class LeNet5(nn.Module):
  """LeNet-5 (LeCun et al. 1998, Fig. 2) on 32x32 (or 28x28, padded) images.

  Attributes:
    num_classes: number of logits (at most 10 with the RBF head).
    head: "rbf" (the paper's fixed-centre Euclidean RBF output) or "dense".
    dtype: compute dtype; parameters stay float32 and the logits are float32.
    activation: "squash" (the paper's 1.7159 tanh(2a/3)) or "relu" (a modern reading; same parameters).
    dropout: rate of dropout on the C5 and F6 outputs in training (0: the paper's network).
  """
  num_classes: int = 10
  head: str = "rbf"
  dtype: Any = jnp.float32
  activation: str = "squash"
  dropout: float = 0.0

  @nn.compact
  def __call__(self, x: jnp.ndarray, train: bool = False) -> jnp.ndarray:
    check_args(x)
    if x.shape[1:3] == (28, 28):
      x = jnp.pad(x, ((0, 0), (2, 2), (2, 2), (0, 0)), mode="edge")
    elif x.shape[1:3] != (32, 32):
      raise UserError(f"LeNet-5 takes 32x32 or 28x28 images, got {x.shape[1]}x{x.shape[2]}")
    x = x.astype(self.dtype)
    squash = ACTIVATIONS[self.activation]
    x = squash(_conv(6, 25 * x.shape[-1], self.dtype, "C1")(x))
    x = squash(Subsampling(self.dtype, name="S2")(x))
    x = squash(PartialConv(C3_TABLE, self.dtype, name="C3")(x))
    x = squash(Subsampling(self.dtype, name="S4")(x))
    drop = nn.Dropout(self.dropout, deterministic=not train or self.dropout == 0)
    x = drop(squash(_conv(120, 25 * 16, self.dtype, "C5")(x)).reshape(x.shape[0], 120))
    x = drop(squash(nn.Dense(84, kernel_init=_uniform(120), bias_init=_uniform(120), dtype=self.dtype,
                             name="F6")(x)))
    if self.head == "dense":
      logits = nn.Dense(self.num_classes, kernel_init=_uniform(84), bias_init=_uniform(84),
                        dtype=self.dtype, name="output")(x)
    else:  # y_i = ||x - w_i||^2 against fixed centres (Sec. II-B)
      centres = jnp.asarray(rbf_centres()[:self.num_classes])
      logits = -jnp.sum(jnp.square(x.astype(jnp.float32)[:, None, :] - centres), axis=-1)
    return jnp.asarray(logits, jnp.float32)


@register("lenet5")
def lenet5(num_classes: int = 10, small_inputs: bool = False, dtype: Any = jnp.float32,
           head: str = "rbf", activation: str = "squash", dropout: float = 0.0) -> LeNet5:
  """LeNet-5; `small_inputs` is ignored (see the module docstring)."""
  del small_inputs
  check_config(num_classes)
  if activation not in ACTIVATIONS:
    raise UserError(f"LeNet-5 activation must be one of {', '.join(ACTIVATIONS)}, got {activation!r}")
  if head not in ("rbf", "dense"):
    raise UserError(f"LeNet-5 head must be 'rbf' or 'dense', got {head!r}")
  if head == "rbf" and num_classes > 10:
    raise UserError(f"the RBF head has centres for 10 digits; use head='dense' for {num_classes} "
                    "classes")
  if not 0 <= dropout < 1:
    raise UserError(f"LeNet-5 dropout must be in [0, 1), got {dropout}")
  return LeNet5(num_classes, head, dtype, activation, dropout)
