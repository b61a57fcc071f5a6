"""Tests for gans.losses: golden values from numpy formulas, stability, gradient behaviour."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from gans import losses
from gans.errors import UserError

REAL = np.array([0.3, -1.2, 2.0, 0.7], np.float32)
FAKE = np.array([-0.5, 1.1, -2.5], np.float32)  # A different batch size on purpose.


def _sigmoid(x):
  return 1.0 / (1.0 + np.exp(-np.asarray(x, np.float64)))


def _numpy_reference(name, real, fake, a=0.0, b=1.0, c=1.0):
  """Direct textbook formulas in float64 (naive log(sigmoid) is fine for small logits)."""
  dr, df = _sigmoid(real), _sigmoid(fake)
  if name in ("minimax", "nsgan"):
    d = -np.mean(np.log(dr)) - np.mean(np.log(1 - df))
    g = np.mean(np.log(1 - df)) if name == "minimax" else -np.mean(np.log(df))
  elif name == "lsgan":
    d = 0.5 * np.mean((real - b) ** 2) + 0.5 * np.mean((fake - a) ** 2)
    g = 0.5 * np.mean((fake - c) ** 2)
  elif name == "wasserstein":
    d, g = np.mean(fake) - np.mean(real), -np.mean(fake)
  elif name == "hinge":
    d = np.mean(np.maximum(0, 1 - real)) + np.mean(np.maximum(0, 1 + fake))
    g = -np.mean(fake)
  return d, g


@pytest.mark.parametrize("name", ["minimax", "nsgan", "lsgan", "wasserstein", "hinge"])
def test_golden_values_against_numpy_formulas(name):
  loss = losses.get_loss(name)
  d_ref, g_ref = _numpy_reference(name, REAL, FAKE)
  d = loss.d_loss(jnp.asarray(REAL), jnp.asarray(FAKE))
  g = loss.g_loss(jnp.asarray(FAKE))
  assert d.shape == () and g.shape == () and d.dtype == jnp.float32
  np.testing.assert_allclose(d, d_ref, rtol=1e-6)
  np.testing.assert_allclose(g, g_ref, rtol=1e-6)
  assert loss.name == name


def test_hand_computed_hinge_and_wasserstein():
  real, fake = jnp.array([1.0, 2.0]), jnp.array([0.0, -1.0])
  # Hinge D: mean(relu(0), relu(-1)) + mean(relu(1), relu(0)) = 0 + 0.5.
  assert float(losses.get_loss("hinge").d_loss(real, fake)) == pytest.approx(0.5)
  # WGAN D: mean(fake) - mean(real) = -0.5 - 1.5; G: -mean(fake) = 0.5.
  assert float(losses.get_loss("wasserstein").d_loss(real, fake)) == pytest.approx(-2.0)
  assert float(losses.get_loss("wasserstein").g_loss(fake)) == pytest.approx(0.5)


def test_minimax_hand_value_at_zero_logits():
  # D = 1/2 everywhere: D loss = 2 log 2, minimax G loss = log(1/2).
  loss = losses.get_loss("minimax")
  zeros = jnp.zeros(5)
  assert float(loss.d_loss(zeros, zeros)) == pytest.approx(2 * np.log(2), rel=1e-6)
  assert float(loss.g_loss(zeros)) == pytest.approx(np.log(0.5), rel=1e-6)


def test_lsgan_codings():
  real, fake = jnp.array([0.5, -0.2]), jnp.array([0.1, 0.9, -0.4])
  # The -1, 1, 0 coding (Mao et al. 2017 eq. 8).
  loss = losses.get_loss("lsgan", a=-1.0, b=1.0, c=0.0)
  d_ref, g_ref = _numpy_reference("lsgan", np.asarray(real), np.asarray(fake), a=-1, b=1, c=0)
  np.testing.assert_allclose(loss.d_loss(real, fake), d_ref, rtol=1e-6)
  np.testing.assert_allclose(loss.g_loss(fake), g_ref, rtol=1e-6)
  # Hand value for the default coding: D(x)=1 on reals and 0 on fakes is optimal (loss 0).
  default = losses.get_loss("lsgan")
  assert float(default.d_loss(jnp.ones(3), jnp.zeros(3))) == 0.0
  assert float(default.g_loss(jnp.ones(3))) == 0.0


@pytest.mark.parametrize("name", ["minimax", "nsgan", "lsgan", "wasserstein", "hinge"])
def test_any_output_shape_means_over_all_elements(name):
  rng = np.random.default_rng(0)
  real = rng.normal(size=(4, 3, 3, 1)).astype(np.float32)  # Patch-style outputs.
  fake = rng.normal(size=(4, 3, 3, 1)).astype(np.float32)
  loss = losses.get_loss(name)
  d_ref, g_ref = _numpy_reference(name, real.ravel(), fake.ravel())
  np.testing.assert_allclose(loss.d_loss(real, fake), d_ref, rtol=1e-5)
  np.testing.assert_allclose(loss.g_loss(fake), g_ref, rtol=1e-5)
  # bfloat16 inputs are computed in float32.
  assert loss.g_loss(jnp.asarray(fake, jnp.bfloat16)).dtype == jnp.float32


@pytest.mark.parametrize("name", ["minimax", "nsgan"])
def test_stable_and_exact_gradients_at_large_logits(name):
  loss = losses.get_loss(name)
  big = jnp.array([100.0, -100.0])
  d_val, (g_real, g_fake) = jax.value_and_grad(loss.d_loss, argnums=(0, 1))(big, big)
  # softplus(-100) ~ 0, softplus(100) = 100: D loss = mean(0, 100) + mean(100, 0) = 100.
  np.testing.assert_allclose(d_val, 100.0, rtol=1e-6)
  # d/dr softplus(-r) = -sigmoid(-r); d/df softplus(f) = sigmoid(f); each mean has 1/2.
  np.testing.assert_allclose(g_real, [0.0, -0.5], atol=1e-30)
  np.testing.assert_allclose(g_fake, [0.5, 0.0], atol=1e-30)
  g_val, g_grad = jax.value_and_grad(loss.g_loss)(big)
  assert np.isfinite(g_val) and np.all(np.isfinite(g_grad))
  expected = (-np.mean([100.0, 0.0]) if name == "minimax" else np.mean([0.0, 100.0]))
  np.testing.assert_allclose(g_val, expected, rtol=1e-6)


def test_minimax_saturates_and_nsgan_does_not():
  # When D confidently rejects fakes (logit -> -inf, D(G(z)) -> 0) the minimax G gradient
  # -sigmoid(f) vanishes while the non-saturating one, sigmoid(f) - 1, tends to -1.
  for f in [-5.0, -20.0, -80.0]:
    g_mm = jax.grad(losses.get_loss("minimax").g_loss)(jnp.float32(f))
    g_ns = jax.grad(losses.get_loss("nsgan").g_loss)(jnp.float32(f))
    np.testing.assert_allclose(g_mm, -_sigmoid(f), rtol=1e-5, atol=1e-37)
    np.testing.assert_allclose(g_ns, _sigmoid(f) - 1.0, rtol=1e-5)
    assert abs(float(g_mm)) < 7e-3 and float(g_ns) < -0.99
  # At D(G(z)) = 1/2 both agree.
  g_mm = jax.grad(losses.get_loss("minimax").g_loss)(jnp.float32(0.0))
  g_ns = jax.grad(losses.get_loss("nsgan").g_loss)(jnp.float32(0.0))
  np.testing.assert_allclose([g_mm, g_ns], [-0.5, -0.5], rtol=1e-6)


def test_jit():
  loss = losses.get_loss("hinge")
  d = jax.jit(loss.d_loss)(jnp.asarray(REAL), jnp.asarray(FAKE))
  np.testing.assert_allclose(d, _numpy_reference("hinge", REAL, FAKE)[0], rtol=1e-6)


def test_registry_errors():
  with pytest.raises(UserError, match="known: began, hinge, lsgan, minimax, nsgan, wasserstein"):
    losses.get_loss("wgan")
  with pytest.raises(UserError, match="takes no option"):
    losses.get_loss("hinge", a=1.0)
  with pytest.raises(UserError, match="takes no option"):
    losses.get_loss("lsgan", d=1.0)
  assert losses.LOSSES.names() == ["began", "hinge", "lsgan", "minimax", "nsgan", "wasserstein"]
