"""Johnson et al.'s TransformerNet: the reference count, shapes, per-sample normalisation; the Gram matrix."""
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from gans.errors import UserError
from gans.models import style_transfer, summary


def test_count_matches_pytorch_examples():
  def conv(cin, cout, k):
    return cin * cout * k * k + cout

  def conv_in(cin, cout, k):  # conv + affine instance norm
    return conv(cin, cout, k) + 2 * cout

  expected = (conv_in(3, 32, 9) + conv_in(32, 64, 3) + conv_in(64, 128, 3) + 5 * 2 * conv_in(128, 128, 3)
              + conv_in(128, 64, 3) + conv_in(64, 32, 3) + conv(32, 3, 9))
  assert expected == 1_679_235
  assert summary.summarize("transformer_net", image_size=256)["generator"] == 1_679_235


def test_shapes_and_samples_normalised_independently():
  model = style_transfer.TransformerNet()
  x = jax.random.uniform(jax.random.key(0), (2, 12, 16, 3)) * 255
  variables = model.init(jax.random.key(1), x)
  assert set(variables) == {"params"}  # no running statistics
  y = model.apply(variables, x)
  assert y.shape == (2, 12, 16, 3)
  # Instance norm: a sample's output does not depend on the rest of the batch (BatchNorm's would).
  np.testing.assert_allclose(np.asarray(model.apply(variables, x[1:])[0]), np.asarray(y[1]), rtol=1e-4, atol=1e-3)
  with pytest.raises(UserError):
    model.apply(variables, x[:, :10])


def test_reflection_padding():
  layer = style_transfer.ReflectConv(1, 3)
  x = jnp.arange(20.0).reshape(1, 4, 5, 1)
  params = {"params": {"Conv_0": {"kernel": jnp.zeros((3, 3, 1, 1)).at[0, 0, 0, 0].set(1.0),
                                  "bias": jnp.zeros((1,))}}}
  # The top-left tap reads x[i - 1, j - 1]; at row/column -1 the reflection is row/column 1.
  padded = np.pad(np.arange(20.0).reshape(4, 5), 1, mode="reflect")
  np.testing.assert_array_equal(np.asarray(layer.apply(params, x))[0, :, :, 0], padded[:4, :5])
  assert padded[0, 0] == 6.0  # x[1, 1]


def test_gram_matrix_against_numpy():
  f = np.random.default_rng(0).normal(size=(2, 3, 5, 4)).astype(np.float32)
  expected = np.zeros((2, 4, 4))
  for b in range(2):
    for c in range(4):
      for d in range(4):
        expected[b, c, d] = np.sum(f[b, :, :, c] * f[b, :, :, d]) / (4 * 3 * 5)
  np.testing.assert_allclose(np.asarray(style_transfer.gram_matrix(jnp.asarray(f))), expected, rtol=1e-5, atol=1e-6)
