"""The airbench network: a fast-training CNN for small images.

Jordan 2024, "94% on CIFAR-10 in 3.29 Seconds on a Single GPU" (arXiv 2404.00498), sec. 3.1 / Fig. 1
(airbench94): a 2x2 unpadded "whitening" conv with bias and 2 * channels * 4 outputs, GELU, then three
conv groups of widths (64, 256, 256), each conv(3x3, same) -> max-pool 2 -> BatchNorm -> GELU ->
conv(3x3, same) -> BatchNorm -> GELU, then a global max-pool and a bias-free linear layer whose output is
multiplied by 1/9. Convs have no bias, BatchNorm has no scale (the paper freezes it at 1), as in the
reference `airbench94.py`: 1,971,640 trainable parameters at 32x32x3 with 10 classes (tests/test_airbench.py
derives them layer by layer). Sec. 3.2's whitening initialisation is `Airbench.data_init` (used when a config
sets `data_init_images`; freeze the kernel with `freeze = "whiten/kernel"`); its lookahead is
`gans.train.optim.lookahead` (`optimizer.lookahead_every`); the paper's other training tricks (dirac init, its
optimizer settings, freezing the whitening bias after 3 epochs) are not part of the module.

`airbench96` is the reference's airbench96.py network: widths (128, 512, 512) and a third conv per group,
conv(3x3) -> BatchNorm added to the group's first activation (a residual over the last two convs), then GELU;
12,717,752 parameters at 32x32x3 with 10 classes (derived in tests/test_airbench.py).

A 32x32 input runs at 31, 15, 7 and 3 pixels, a 28x28 one at 27, 13, 6 and 3; `small_inputs` is accepted
for the common signature and changes nothing (the net is built for such images; larger ones work too).
"""
from typing import Any, Sequence

import flax.linen as nn
import jax.numpy as jnp
import numpy as np

from gans.models.classifiers import register
from gans.models.classifiers.blocks import check_args, check_config, torch_default_init
from gans.models.layers import batch_norm


def whitening_kernel(images: np.ndarray, size: int = 2, eps: float = 5e-4) -> np.ndarray:
  """HWIO kernel [size, size, C, 2 * size * size * C] that whitens the images' size x size patches (sec. 3.2).

  Output channel k < size^2 C is a patch's coordinate along eigenvector k of the patches' (uncentred) second
  moment divided by sqrt(eigenvalue + eps), so the outputs have second moment ~ identity; the other half of
  the channels are the same negated.
  """
  images = np.asarray(images, np.float64)
  _, h, w, c = images.shape
  taps = [images[:, i:h - size + 1 + i, j:w - size + 1 + j] for i in range(size) for j in range(size)]
  patches = np.stack(taps, axis=3).reshape(-1, size * size * c)  # (i, j, c) order, as HWIO flattens
  eigenvalues, eigenvectors = np.linalg.eigh(patches.T @ patches / len(patches))
  scaled = eigenvectors / np.sqrt(eigenvalues + eps)
  return np.concatenate([scaled, -scaled], axis=1).reshape(size, size, c, -1).astype(np.float32)


def _act(x):
  return nn.gelu(x, approximate=False)


def _pool(x):
  """2x2 stride-2 max-pool (an odd last row / column dropped) as a reshape and a max: its gradient is
  elementwise work XLA fuses, where nn.max_pool's select-and-scatter made the half-width Fashion-MNIST step
  15% slower (docs/performance.md). Tied maxima share the gradient instead of the first taking it."""
  b, h, w, c = x.shape
  x = x[:, :h // 2 * 2, :w // 2 * 2]
  return x.reshape(b, h // 2, 2, w // 2, 2, c).max(axis=(2, 4))


class Airbench(nn.Module):
  """Whitening conv, three conv groups of `widths`, global max-pool, linear head times `logit_scale`.

  Attributes:
    widths: output channels of the three conv groups.
    num_classes: number of logits.
    logit_scale: factor on the logits (the reference's 1/9).
    dtype: compute dtype; parameters stay float32 and the logits are float32.
    residual: airbench96's groups: a third conv and BatchNorm whose output is added to the group's first
      activation before the last GELU.
  """
  widths: Sequence[int] = (64, 256, 256)
  num_classes: int = 10
  logit_scale: float = 1 / 9
  dtype: Any = jnp.float32
  residual: bool = False

  def data_init(self, images: np.ndarray) -> dict:
    """Parameters computed from training images [N, H, W, C] before training: the whitening kernel."""
    return {"whiten": {"kernel": whitening_kernel(images)}}

  @nn.compact
  def __call__(self, x: jnp.ndarray, train: bool = False) -> jnp.ndarray:
    check_args(x)
    x = x.astype(self.dtype)
    conv = lambda features, name: nn.Conv(features, (3, 3), padding=((1, 1), (1, 1)), use_bias=False,
                                          kernel_init=torch_default_init, dtype=self.dtype, name=name)
    bn = lambda name: batch_norm(train, self.dtype, name, use_scale=False)
    x = nn.Conv(2 * x.shape[-1] * 4, (2, 2), padding="VALID", kernel_init=torch_default_init,
                dtype=self.dtype, name="whiten")(x)
    x = _act(x)
    for i, width in enumerate(self.widths):  # sec. 3.1: conv, pool, norm, act, conv, norm, act
      g = f"group{i + 1}"
      x = _pool(conv(width, f"{g}_conv1")(x))
      x = _act(bn(f"{g}_bn1")(x))
      y = bn(f"{g}_bn2")(conv(width, f"{g}_conv2")(x))
      if self.residual:  # airbench96: ... act, conv, norm, + the first activation, act
        y = bn(f"{g}_bn3")(conv(width, f"{g}_conv3")(_act(y))) + x
      x = _act(y)
    x = jnp.max(x, axis=(1, 2))
    x = nn.Dense(self.num_classes, use_bias=False, kernel_init=torch_default_init, dtype=self.dtype,
                 name="head")(x)
    return x.astype(jnp.float32) * self.logit_scale


@register("airbench")
def airbench(num_classes: int = 1000, small_inputs: bool = False, dtype: Any = jnp.float32,
             widths: Sequence[int] = (64, 256, 256), logit_scale: float = 1 / 9) -> Airbench:
  """airbench94's network; `widths` and `logit_scale` as in `Airbench`."""
  del small_inputs  # built for small images; see the module docstring
  widths = tuple(widths)
  check_config(num_classes, logit_scale=logit_scale, **{f"widths[{i}]": w for i, w in enumerate(widths)})
  return Airbench(widths, num_classes, logit_scale, dtype)


@register("airbench96")
def airbench96(num_classes: int = 1000, small_inputs: bool = False, dtype: Any = jnp.float32,
               widths: Sequence[int] = (128, 512, 512), logit_scale: float = 1 / 9) -> Airbench:
  """airbench96's network: `airbench` with a residual third conv per group."""
  return airbench(num_classes, small_inputs, dtype, widths, logit_scale).clone(residual=True)
