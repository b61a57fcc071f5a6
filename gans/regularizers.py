"""BigGAN's orthogonal regularisation and truncation trick (Brock, Donahue & Simonyan 2019, sec. 3.1).

`orthogonal_regularization(params, beta)`: sum over weight matrices W of beta * ||W^T W ⊙ (1 - I)||_F^2, the
squared off-diagonal Gram entries of W's output units (filters), which pushes filters towards orthogonality
without constraining their norms. As BigGAN-PyTorch's `utils.ortho`, every parameter with at least two axes is a
matrix and 0-d / 1-d ones (biases, BatchNorm gains, attention's gamma) are skipped; a convolution kernel
[kh, kw, C_in, C_out] is the [kh*kw*C_in, C_out] matrix (torch's weight.view(C_out, -1), transposed), and a
class-embedding table [K, D] (a parameter named 'embedding', laid out as torch's nn.Embedding weight) has its K
rows as the units, as the reference's view(K, -1) does. BigGAN-PyTorch leaves G's shared embedding out
(`exclude=("shared",)` here).

Scale: the reference adds 2 s (W W^T ⊙ (1 - I)) W to the gradient for strength s (`--G_ortho s`), which is the
gradient of (s / 2) ||.||_F^2: its s is beta = s / 2 here.

`truncated_normal_resampled(key, shape, threshold)`: z ~ N(0, I) with every entry of magnitude above the
threshold redrawn until none is (the truncation trick), i.e. the standard normal truncated to [-T, T].
"""
from typing import Sequence

import jax
import jax.numpy as jnp

_MAX_ROUNDS = 64


def _matrices(params, exclude: Sequence[str]) -> list[jax.Array]:
  """The matrix (columns: the output units) of every regularised leaf of `params`."""
  out = []
  for path, leaf in jax.tree_util.tree_flatten_with_path(params)[0]:
    keys = [str(getattr(k, "key", getattr(k, "name", k))) for k in path]
    if leaf.ndim < 2 or any(k in exclude for k in keys):
      continue
    w = leaf.astype(jnp.float32)
    w = w.T if keys and keys[-1] == "embedding" else w.reshape(-1, w.shape[-1])
    out.append(w)
  return out


def orthogonal_regularization(params, beta: float, exclude: Sequence[str] = ()) -> jax.Array:
  """beta * sum_W ||W^T W ⊙ (1 - I)||_F^2 over the matrices of `params` (module docstring).

  `exclude`: module or parameter names whose leaves are left out (any key of a leaf's path).
  """
  total = jnp.zeros((), jnp.float32)
  for w in _matrices(params, tuple(exclude)):
    gram = w.T @ w
    off_diagonal = gram * (1.0 - jnp.eye(gram.shape[0], dtype=gram.dtype))
    total = total + jnp.sum(off_diagonal ** 2)
  return beta * total


def truncated_normal_resampled(key: jax.Array, shape: Sequence[int], threshold: float | None,
                               dtype=jnp.float32) -> jax.Array:
  """Standard normal samples of `shape` whose entries with |z| > threshold are redrawn (Brock et al. 2019,
  sec. 3.1). `threshold` None or <= 0: plain N(0, 1).

  Each round redraws the entries still outside [-T, T] from fresh normals, so the entries of the first draw
  that were inside are returned unchanged. Entries still outside after 64 rounds (only for very small T, where
  a round keeps a fraction ~0.8 T of them) are drawn from the same truncated normal by inverse CDF
  (jax.random.truncated_normal): the result never lies beyond T, and the bounded loop stays cheap.
  """
  shape = tuple(shape)
  first, key = jax.random.split(key)
  z = jax.random.normal(first, shape, dtype)
  if threshold is None or threshold <= 0:
    return z
  t = jnp.asarray(threshold, dtype)

  def outside(z):
    return jnp.abs(z) > t

  def redraw(state):
    i, z = state
    return i + 1, jnp.where(outside(z), jax.random.normal(jax.random.fold_in(key, i), shape, dtype), z)

  def keep_going(state):
    i, z = state
    return (i < _MAX_ROUNDS) & jnp.any(outside(z))

  _, z = jax.lax.while_loop(keep_going, redraw, (jnp.zeros((), jnp.int32), z))
  rest = jax.random.truncated_normal(jax.random.fold_in(key, _MAX_ROUNDS), -t, t, shape, dtype)
  return jnp.where(outside(z), rest, z)
