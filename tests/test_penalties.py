"""Tests for gans.penalties against per-sample numpy computations, on image and toy batches."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from gans import penalties
from gans.errors import UserError

B, H, W, C = 5, 4, 3, 2


def _images(seed):
  return np.random.default_rng(seed).normal(size=(B, H, W, C)).astype(np.float32)


def _linear_critic(w):
  """d(x) = sum(w * x) per sample: gradient w for every sample, norm ||w|| over all of H, W, C."""
  return lambda x: jnp.sum(w * x, axis=tuple(range(1, x.ndim)))


def _quadratic_critic(a):
  """d(x) = sum(a * x^2) / 2 per sample, output [B, 1]: gradient a * x, sample-dependent norm."""
  return lambda x: 0.5 * jnp.sum(a * x * x, axis=tuple(range(1, x.ndim)))[:, None]


def _np_unit_norm_penalty(grads):
  """mean_i (||g_i|| - 1)^2 with the norm over all non-batch axes, one sample at a time."""
  return np.mean([(np.linalg.norm(g.ravel().astype(np.float64)) - 1.0) ** 2 for g in grads])


def test_gradient_penalty_linear_critic_on_images_uses_full_per_sample_norm():
  w = np.random.default_rng(1).normal(size=(H, W, C)).astype(np.float32) * 0.3
  value = penalties.gradient_penalty(_linear_critic(w), _images(2), _images(3),
                                     jax.random.key(0))
  expected = (np.linalg.norm(w.ravel()) - 1.0) ** 2
  np.testing.assert_allclose(value, expected, rtol=1e-5)
  # The peer bug: norm over one axis only (axis=1 of an NHWC gradient), then the mean.
  grads = np.broadcast_to(w, (B, H, W, C))
  buggy = np.mean((np.linalg.norm(grads, axis=1) - 1.0) ** 2)
  assert abs(buggy - expected) > 0.1
  assert abs(float(value) - buggy) > 0.1


def test_gradient_penalty_quadratic_critic_sample_dependent_norms():
  a = np.random.default_rng(4).uniform(0.2, 1.5, size=(H, W, C)).astype(np.float32)
  real, fake = _images(5), _images(6)
  key = jax.random.key(7)
  value = penalties.gradient_penalty(_quadratic_critic(a), real, fake, key)
  x_hat = np.asarray(penalties.interpolate(real, fake, key))
  expected = _np_unit_norm_penalty(a * x_hat)
  np.testing.assert_allclose(value, expected, rtol=1e-5)
  # With real == fake every interpolate is the sample itself, whatever eps is.
  same = penalties.gradient_penalty(_quadratic_critic(a), real, real, key)
  np.testing.assert_allclose(same, _np_unit_norm_penalty(a * real), rtol=1e-5)


def test_interpolates_lie_on_segments_with_one_eps_per_sample():
  real, fake = _images(8), _images(9)
  x_hat = np.asarray(penalties.interpolate(real, fake, jax.random.key(1)), np.float64)
  eps = []
  for i in range(B):
    direction = (real[i] - fake[i]).ravel()
    e = (x_hat[i] - fake[i]).ravel() @ direction / (direction @ direction)
    # Every element uses the same eps: x_hat_i - fake_i is exactly e * (real_i - fake_i).
    np.testing.assert_allclose(x_hat[i], fake[i] + e * (real[i] - fake[i]), atol=1e-5)
    assert 0.0 <= e <= 1.0
    eps.append(e)
  assert np.ptp(eps) > 0.05  # Different samples draw different eps.


def test_gradient_penalty_toy_2d():
  rng = np.random.default_rng(10)
  real, fake = rng.normal(size=(16, 2)), rng.normal(size=(16, 2))
  a = np.array([0.5, 2.0])
  key = jax.random.key(3)
  value = penalties.gradient_penalty(_quadratic_critic(a), jnp.asarray(real, jnp.float32),
                                     jnp.asarray(fake, jnp.float32), key)
  x_hat = np.asarray(penalties.interpolate(jnp.asarray(real, jnp.float32),
                                           jnp.asarray(fake, jnp.float32), key))
  np.testing.assert_allclose(value, _np_unit_norm_penalty(a * x_hat), rtol=1e-5)


def test_dragan_perturbation_follows_reference_code():
  real = _images(11)
  x_hat = np.asarray(penalties.dragan_perturb(real, jax.random.key(2), c=0.5), np.float64)
  delta = x_hat - real
  bound = 0.5 * real.std()
  assert np.all(delta >= 0) and np.all(delta < bound + 1e-6)
  # delta = alpha_i * u: within a sample its maximum is at most alpha_i * bound, and alphas differ.
  per_sample_max = delta.reshape(B, -1).max(1) / bound
  assert np.ptp(per_sample_max) > 0.05
  # c = 0 leaves the reals untouched.
  np.testing.assert_array_equal(penalties.dragan_perturb(real, jax.random.key(2), c=0.0), real)


def test_dragan_penalty_quadratic_critic():
  a = np.random.default_rng(12).uniform(0.2, 1.5, size=(H, W, C)).astype(np.float32)
  real, key = _images(13), jax.random.key(4)
  value = penalties.dragan_penalty(_quadratic_critic(a), real, None, key)
  x_hat = np.asarray(penalties.dragan_perturb(real, key))
  np.testing.assert_allclose(value, _np_unit_norm_penalty(a * x_hat), rtol=1e-5)
  no_noise = penalties.get_penalty("dragan", c=0.0)(_quadratic_critic(a), real, None, key)
  np.testing.assert_allclose(no_noise, _np_unit_norm_penalty(a * real), rtol=1e-5)


def test_r1_penalty_quadratic_critic():
  a = np.random.default_rng(14).uniform(0.2, 1.5, size=(H, W, C)).astype(np.float32)
  real = _images(15)
  value = penalties.r1_penalty(_quadratic_critic(a), real, None, None)
  expected = 0.5 * np.mean([np.sum((a * x).astype(np.float64) ** 2) for x in real])
  np.testing.assert_allclose(value, expected, rtol=1e-5)


def test_parameter_gradients_through_penalties():
  # Double backprop: d/dw (||w|| - 1)^2 = 2 (||w|| - 1) w / ||w||; d/dw ||w||^2 / 2 = w.
  w = jnp.asarray(np.random.default_rng(16).normal(size=(H, W, C)), jnp.float32)
  real, fake, key = _images(17), _images(18), jax.random.key(5)
  gp_grad = jax.grad(lambda w: penalties.gradient_penalty(_linear_critic(w), real, fake, key))(w)
  norm = np.linalg.norm(np.asarray(w).ravel())
  np.testing.assert_allclose(gp_grad, 2 * (norm - 1) * np.asarray(w) / norm, rtol=1e-4)
  r1_grad = jax.grad(lambda w: penalties.r1_penalty(_linear_critic(w), real, fake, key))(w)
  np.testing.assert_allclose(r1_grad, w, rtol=1e-5)


def test_zero_gradient_critic_gives_finite_parameter_gradients():
  # A critic that ignores its input: penalty (0 - 1)^2 = 1, and the sqrt at 0 must not give NaN.
  def loss(w):
    return penalties.gradient_penalty(lambda x: w * 0.0 * jnp.sum(x, axis=(1, 2, 3)),
                                      _images(1), _images(2), jax.random.key(0))
  value, grad = jax.value_and_grad(loss)(jnp.float32(2.0))
  np.testing.assert_allclose(value, 1.0, rtol=1e-5)
  assert np.isfinite(grad)


def test_jit_and_registry():
  w = np.full((H, W, C), 0.1, np.float32)
  real, fake = _images(19), _images(20)
  for name in ["gradient_penalty", "dragan"]:
    fn = jax.jit(penalties.get_penalty(name), static_argnums=0)
    expected = (np.linalg.norm(w.ravel()) - 1.0) ** 2  # Linear critic: independent of x_hat.
    np.testing.assert_allclose(fn(_linear_critic(w), real, fake, jax.random.key(0)), expected,
                               rtol=1e-5)
  assert float(penalties.get_penalty("none")(None, real, fake, None)) == 0.0
  with pytest.raises(UserError, match="known: dragan, gradient_penalty, none, r1"):
    penalties.get_penalty("wgan_gp")
  with pytest.raises(UserError, match="takes no option"):
    penalties.get_penalty("r1", c=1.0)


def test_bad_inputs():
  w = np.ones((H, W, C), np.float32)
  with pytest.raises(UserError, match="same shape"):
    penalties.gradient_penalty(_linear_critic(w), _images(0), _images(1)[:3], jax.random.key(0))
  with pytest.raises(UserError, match=r"\[B\] or \[B, 1\]"):
    penalties.r1_penalty(lambda x: x.reshape(B, -1)[:, :2], _images(0), None, None)
  with pytest.raises(UserError, match="floating"):
    penalties.r1_penalty(_linear_critic(w), np.ones((B, H, W, C), np.int32), None, None)


def test_clip_weights():
  params = {"dense": {"kernel": jnp.array([[-0.5, 0.003], [0.02, -0.009]]),
                      "bias": jnp.array([0.0, 0.01, -0.01])},
            "scale": jnp.array(7.0)}
  clipped = penalties.clip_weights(params, 0.01)
  np.testing.assert_array_equal(clipped["dense"]["kernel"],
                                np.array([[-0.01, 0.003], [0.01, -0.009]], np.float32))
  # Values already inside [-c, c] (including the bounds) are untouched.
  np.testing.assert_array_equal(clipped["dense"]["bias"], params["dense"]["bias"])
  assert float(clipped["scale"]) == pytest.approx(0.01)
  assert jax.tree.structure(clipped) == jax.tree.structure(params)
  for leaf in jax.tree.leaves(clipped):
    assert np.all(np.abs(leaf) <= 0.01 + 1e-9)
  with pytest.raises(UserError, match="> 0"):
    penalties.clip_weights(params, 0.0)
