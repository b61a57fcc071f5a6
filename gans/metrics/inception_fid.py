"""The Inception v3 of FID: TensorFlow's 2015-12-05 graph as ported by pytorch-fid, in Flax.

Heusel et al. 2017 (TTUR) compute FID on the pool3 features of the 2015-12-05 Inception graph; pytorch-fid
(mseitzer/pytorch-fid, `inception.py`) reproduces that graph as torchvision's Inception v3 with these
changes, all kept here:
- 1008 logits (the graph's softmax layer), no auxiliary head, no dropout;
- in Mixed_5b-5d (A), Mixed_6b-6e (C) and Mixed_7b (E) the 3x3 average pool of the pool branch does not
  count padded zeros (`count_include_pad=False`, TensorFlow's behaviour);
- in Mixed_7c the pool branch uses a 3x3 stride-1 max pool instead of the average pool;
- input: bilinearly resized to 299x299 (`F.interpolate(..., align_corners=False)`: half-pixel centres,
  no antialiasing) and scaled to [-1, 1].
The building blocks are those of `gans.models.classifiers.inception` (same parameter names), with the
pooling chosen per block. 23,850,960 trainable parameters (torchvision's 23,834,568 at 1000 classes plus
8 * 2,049 for the 8 extra logits) and 34,432 BatchNorm statistics (mean and variance of 17,216
channels in 94 conv units).

Weights: `load_params(path)` reads the .npz or .safetensors file written by
`third_party/pytorch_fid/convert_weights.py` (see its README); tensor names are Flax paths such as
`params/Mixed_7c/pool_proj/conv/kernel` and `batch_stats/conv1a/bn/mean`. Pickle files are never read.
"""
import functools
import os
from typing import Any

import flax
import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

from gans.errors import UserError
from gans.models.classifiers.blocks import BasicConv

# pylint: disable=g-importing-member,protected-access
from gans.models.classifiers.inception import _V3_B, _V3_D, Mixed, _col, _pool, _row, _stem, _v3_a, _v3_c, tower

INPUT_SIZE = 299
NUM_LOGITS = 1008
FEATURE_DIM = 2048
_EXCLUDE_PAD = "avg_exclude_pad"  # TF average pool: padded zeros not counted


def _fid_pool(block: dict, pool: str = _EXCLUDE_PAD) -> dict:
  return {**block, "pool": pool}


# (name, Mixed kwargs) from 35x35 to 8x8: the classifier's blocks with TF's average pool.
_BLOCKS = (("Mixed_5b", _fid_pool(_v3_a(32))), ("Mixed_5c", _fid_pool(_v3_a(64))),
           ("Mixed_5d", _fid_pool(_v3_a(64))), ("Mixed_6a", _V3_B), ("Mixed_6b", _fid_pool(_v3_c(128))),
           ("Mixed_6c", _fid_pool(_v3_c(160))), ("Mixed_6d", _fid_pool(_v3_c(160))),
           ("Mixed_6e", _fid_pool(_v3_c(192))), ("Mixed_7a", _V3_D))


class InceptionE(nn.Module):
  """8x8 module (Szegedy et al. 2016, Fig. 7) with a chosen pool branch; names as the classifier's.

  `pool`: "avg_exclude_pad" (Mixed_7b) or "max_same" (Mixed_7c), see the module docstring.
  """
  pool: str = _EXCLUDE_PAD

  @nn.compact
  def __call__(self, x: jnp.ndarray) -> jnp.ndarray:
    def fork(y, name):  # side-by-side 1x3 and 3x1 convs
      return [tower(y, [_row(384, 3)], False, f"{name}a"), tower(y, [_col(384, 3)], False, f"{name}b")]

    out = [tower(x, [(320, 1)], False, "b0")]
    out += fork(tower(x, [(384, 1)], False, "b1"), "b1")
    out += fork(tower(x, [(448, 1), (384, 3, 1, 1)], False, "b2"), "b2")
    out.append(BasicConv(192, name="pool_proj")(_pool(x, self.pool), False))
    return jnp.concatenate(out, axis=-1)


def resize_bilinear(x: jnp.ndarray, size: int = INPUT_SIZE) -> jnp.ndarray:
  """NHWC -> N x size x size: torch `F.interpolate(mode='bilinear', align_corners=False)`.

  Half-pixel centres, edges clamped, no antialiasing when shrinking (as pytorch-fid).
  """
  if x.shape[1:3] == (size, size):
    return x
  return jax.image.resize(x, (x.shape[0], size, size, x.shape[3]), "bilinear", antialias=False)


class FIDInceptionV3(nn.Module):
  """pytorch-fid's FID Inception v3 in inference mode: images -> (pool3 [B, 2048], logits [B, 1008]).

  Input: float NHWC RGB images in [-1, 1] of any size (resized to 299x299 when `resize_input`).
  """
  resize_input: bool = True

  @nn.compact
  def __call__(self, x: jnp.ndarray) -> tuple[jnp.ndarray, jnp.ndarray]:
    if x.ndim != 4 or x.shape[-1] != 3:
      raise UserError(f"FID Inception needs RGB images [B, H, W, 3], got shape {x.shape}")
    x = x.astype(jnp.float32)
    if self.resize_input:
      x = resize_bilinear(x)
    x = _stem(x, False, False)
    for name, block in _BLOCKS:
      x = Mixed(**block, name=name)(x, False)
    x = InceptionE(_EXCLUDE_PAD, name="Mixed_7b")(x)
    x = InceptionE("max_same", name="Mixed_7c")(x)
    pool3 = jnp.mean(x, axis=(1, 2))
    return pool3, nn.Dense(NUM_LOGITS, name="fc")(pool3)


# ------------------------------------------------------------------------------------------------
# Weights
# ------------------------------------------------------------------------------------------------


def flatten(tree: Any) -> dict[str, Any]:
  """{'params': {'a': {'b': x}}} -> {'params/a/b': x}."""
  return {"/".join(k): v for k, v in flax.traverse_util.flatten_dict(flax.core.unfreeze(tree)).items()}


@functools.cache
def expected_shapes() -> dict[str, tuple[int, ...]]:
  """Every tensor of the network's variables: flat name -> shape."""
  shapes = jax.eval_shape(FIDInceptionV3().init, jax.random.key(0),
                          jnp.zeros((1, INPUT_SIZE, INPUT_SIZE, 3)))
  return {k: tuple(v.shape) for k, v in flatten(shapes).items()}


_HOW_TO = "see third_party/pytorch_fid/README.md to download and convert the weights"


def _read(path: str) -> dict[str, np.ndarray]:
  ext = os.path.splitext(path)[1].lower()
  if ext not in (".npz", ".safetensors"):
    raise UserError(f"FID weights {path}: expected a .npz or .safetensors file, got {ext or 'no extension'} "
                    f"(.pth checkpoints are pickles and are never loaded; {_HOW_TO})")
  if not os.path.isfile(path):
    raise UserError(f"FID weights {path}: no such file ({_HOW_TO})")
  try:
    if ext == ".npz":
      with np.load(path, allow_pickle=False) as f:
        return {k: f[k] for k in f.files}
    from safetensors.numpy import load_file  # pylint: disable=g-import-not-at-top
    return load_file(path)
  except Exception as e:  # pylint: disable=broad-except  # numpy, zipfile and safetensors raise many types
    raise UserError(f"FID weights {path}: unreadable or corrupt ({type(e).__name__}: "
                    f"{(str(e).splitlines() or [''])[0][:120]})") from None


def load_params(path: str) -> dict:
  """Variables {'params', 'batch_stats'} of `FIDInceptionV3` from a converted weights file.

  Every expected tensor must be present with its shape and finite values, and nothing else may be in
  the file; otherwise a one-line UserError says what is wrong.
  """
  tensors = _read(path)
  expected = expected_shapes()
  missing = sorted(set(expected) - set(tensors))
  extra = sorted(set(tensors) - set(expected))
  if missing or extra:
    what = (f"{len(missing)} missing tensors (e.g. {missing[0]})" if missing else
            f"{len(extra)} unexpected tensors (e.g. {extra[0]})")
    raise UserError(f"FID weights {path}: {what}; is it the output of convert_weights.py? ({_HOW_TO})")
  flat = {}
  for name, shape in expected.items():
    t = tensors[name]
    if tuple(t.shape) != shape:
      raise UserError(f"FID weights {path}: {name} has shape {tuple(t.shape)}, expected {shape}")
    if not np.issubdtype(t.dtype, np.floating) or not np.all(np.isfinite(t)):
      raise UserError(f"FID weights {path}: {name} is not finite floating point (dtype {t.dtype})")
    flat[tuple(name.split("/"))] = np.asarray(t, np.float32)
  return flax.traverse_util.unflatten_dict(flat)
