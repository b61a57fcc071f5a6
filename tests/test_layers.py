"""Tests for gans.models.layers: the fast transposed convolution and its flax module."""

import itertools

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax import lax

from gans.errors import UserError
from gans.models import layers

_DN = ('NHWC', 'HWIO', 'NHWC')


def _lax_ct(x, k, strides, padding):
  return lax.conv_transpose(x, k, strides, padding, dimension_numbers=_DN,
                            precision=lax.Precision.HIGHEST)


def _ours(x, k, strides, padding):
  return layers.conv_transpose(x, k, strides, padding, precision=lax.Precision.HIGHEST)


def _normal(seed, shape, dtype=jnp.float32):
  return jnp.asarray(np.random.default_rng(seed).standard_normal(shape), dtype)


# (kernel, stride, padding, input height/width): kernels 3/4/5, strides 1/2, odd and even sizes.
_CASES = [(k, s, p, (5, 4)) for k, s, p in itertools.product(
    (3, 4, 5), (1, 2), ('SAME', 'VALID', ((2, 1), (0, 3))))]
_CASES += [(4, 2, 'SAME', (7, 7)), (4, 2, 'SAME', (14, 14)),  # DCGAN 28x28: 7 -> 14 -> 28
           (4, 1, 'VALID', (1, 1)), (7, 1, 'VALID', (1, 1)),  # z as 1x1 -> 4x4 or 7x7
           (3, 2, 'VALID', (3, 3)),
           (3, 3, 'SAME', (2, 3)), (2, 3, 'VALID', (2, 2))]  # stride >= kernel


def test_hand_computed_1d():
  # y[o] = sum_i x[i] K[s*i + lo - o], VALID gives lo = k - 1 = 2 (lax does not flip the kernel).
  x = jnp.array([1., 2.]).reshape(1, 1, 2, 1)
  k = jnp.array([1., 10., 100.]).reshape(1, 3, 1, 1)
  y = layers.conv_transpose(x, k, (1, 2), 'VALID')
  np.testing.assert_array_equal(y.reshape(-1), [100., 10., 201., 20., 2.])


@pytest.mark.parametrize('k,s,padding,hw', _CASES)
def test_forward_and_gradients_match_lax(k, s, padding, hw):
  x, kernel = _normal(0, (2, *hw, 3)), _normal(1, (k, k, 3, 5))
  want, want_vjp = jax.vjp(lambda a, b: _lax_ct(a, b, (s, s), padding), x, kernel)
  got, got_vjp = jax.vjp(lambda a, b: _ours(a, b, (s, s), padding), x, kernel)
  assert got.shape == want.shape
  np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)
  g = _normal(2, want.shape)
  for got_grad, want_grad in zip(got_vjp(g), want_vjp(g)):
    np.testing.assert_allclose(got_grad, want_grad, rtol=1e-5, atol=1e-4)


def test_rectangular_kernel_and_strides():
  x, kernel = _normal(0, (2, 5, 6, 3)), _normal(1, (4, 3, 3, 2))
  want, want_vjp = jax.vjp(lambda a, b: _lax_ct(a, b, (2, 3), 'SAME'), x, kernel)
  got, got_vjp = jax.vjp(lambda a, b: _ours(a, b, (2, 3), 'SAME'), x, kernel)
  assert got.shape == (2, 10, 18, 2)
  np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)
  g = _normal(2, want.shape)
  for a, b in zip(got_vjp(g), want_vjp(g)):
    np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-4)


def test_negative_padding_gradient_is_the_transpose_of_the_forward():
  # Checked against forward-mode of lax.conv_transpose: <J v, g> == <v, J^T g>. (jax 0.10.2's own
  # reverse-mode kernel gradient is wrong for a negative low padding, so it is no reference here.)
  padding = ((3, -1), (-1, 2))
  x, kernel = _normal(0, (2, 5, 6, 3)), _normal(1, (3, 3, 3, 4))
  y = _ours(x, kernel, (2, 2), padding)
  np.testing.assert_allclose(y, _lax_ct(x, kernel, (2, 2), padding), rtol=1e-5, atol=1e-5)
  dx, dk, g = _normal(2, x.shape), _normal(3, kernel.shape), _normal(4, y.shape)
  _, jv = jax.jvp(lambda a, b: _lax_ct(a, b, (2, 2), padding), (x, kernel), (dx, dk))
  gx, gk = jax.vjp(lambda a, b: _ours(a, b, (2, 2), padding), x, kernel)[1](g)
  np.testing.assert_allclose(jnp.vdot(jv, g), jnp.vdot(dx, gx) + jnp.vdot(dk, gk), rtol=1e-5)


def test_jit_matches_eager():
  x, kernel = _normal(0, (2, 5, 5, 3)), _normal(1, (4, 4, 3, 2))
  loss = lambda a, b: jnp.sum(jnp.sin(layers.conv_transpose(a, b, 2, 'SAME')))
  eager = jax.value_and_grad(loss, argnums=(0, 1))(x, kernel)
  jitted = jax.jit(jax.value_and_grad(loss, argnums=(0, 1)))(x, kernel)
  for a, b in zip(jax.tree.leaves(eager), jax.tree.leaves(jitted)):
    np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize('strides,padding,use_bias,hw', [
    ((2, 2), 'SAME', True, (7, 7)), ((2, 2), 'SAME', False, (14, 14)), (1, 'VALID', True, (1, 1)),
    (2, 1, True, (4, 5)), (None, [(1, 2), (0, 1)], False, (5, 5))])
def test_module_is_a_drop_in_for_flax(strides, padding, use_bias, hw):
  kw = dict(features=6, kernel_size=(4, 4), strides=strides, padding=padding, use_bias=use_bias)
  ours, theirs = layers.ConvTranspose(**kw), nn.ConvTranspose(**kw)
  x = _normal(0, (2, *hw, 3))
  params = ours.init(jax.random.key(0), x)
  want_params = theirs.init(jax.random.key(0), x)
  assert jax.tree.map(jnp.shape, params) == jax.tree.map(jnp.shape, want_params)
  for a, b in zip(jax.tree.leaves(params), jax.tree.leaves(want_params)):
    np.testing.assert_array_equal(a, b)  # same names, shapes and initializers
  n_params = sum(p.size for p in jax.tree.leaves(params))
  assert n_params == 4 * 4 * 3 * 6 + (6 if use_bias else 0)
  if use_bias:  # a non-zero bias, so that the bias path is exercised
    params = jax.tree.map(lambda p: p + 0.5 if p.ndim == 1 else p, params)
  np.testing.assert_allclose(ours.apply(params, x), theirs.apply(params, x), rtol=1e-5, atol=1e-5)


def test_module_batch_axes_like_flax():
  layer = layers.ConvTranspose(2, (3, 3), (2, 2))
  x = _normal(0, (2, 3, 5, 5, 4))
  params = layer.init(jax.random.key(0), x)
  y = layer.apply(params, x)
  assert y.shape == (2, 3, 10, 10, 2)
  np.testing.assert_allclose(y, nn.ConvTranspose(2, (3, 3), (2, 2)).apply(params, x), rtol=1e-5,
                             atol=1e-5)
  assert layer.apply(params, x[0, 0]).shape == (10, 10, 2)  # no batch axis


def test_bf16_compute_with_fp32_params():
  layer = layers.ConvTranspose(4, (4, 4), (2, 2), dtype=jnp.bfloat16)
  x = _normal(0, (2, 5, 5, 8))
  params = layer.init(jax.random.key(0), x)
  assert params['params']['kernel'].dtype == jnp.float32
  y = layer.apply(params, x)
  assert y.dtype == jnp.bfloat16 and y.shape == (2, 10, 10, 4)
  ref = nn.ConvTranspose(4, (4, 4), (2, 2)).apply(params, x)
  np.testing.assert_allclose(y.astype(jnp.float32), ref, rtol=0.05, atol=0.05)

  def loss(p, module):
    return jnp.sum(module.apply(p, x).astype(jnp.float32) ** 2)
  grad = jax.jit(jax.grad(loss), static_argnums=1)
  grads, want = grad(params, layer), grad(params, nn.ConvTranspose(4, (4, 4), (2, 2)))
  for a, b in zip(jax.tree.leaves(grads), jax.tree.leaves(want)):
    assert a.dtype == jnp.float32
    np.testing.assert_allclose(a, b, rtol=0.05, atol=0.05 * float(jnp.abs(b).max()))


@pytest.mark.parametrize('kwargs,shape,match', [
    (dict(padding='FULL'), (1, 4, 4, 3), 'padding'),
    (dict(padding='CIRCULAR'), (1, 4, 4, 3), 'CIRCULAR'),
    (dict(strides=0), (1, 4, 4, 3), 'strides'),
    (dict(kernel_size=(3, 3, 3)), (1, 4, 4, 3), 'kernel_size'),
    (dict(padding='VALID', kernel_size=(1, 1), strides=1), (1, 4), 'input')])
def test_bad_input_raises_user_error(kwargs, shape, match):
  kw = dict(features=2, kernel_size=(3, 3), strides=2) | kwargs
  with pytest.raises(UserError, match=match):
    layers.ConvTranspose(**kw).init(jax.random.key(0), jnp.ones(shape))


def test_conv_transpose_rejects_mismatched_channels_and_empty_output():
  with pytest.raises(UserError, match='channels'):
    layers.conv_transpose(jnp.ones((1, 4, 4, 3)), jnp.ones((3, 3, 2, 5)), 2, 'SAME')
  with pytest.raises(UserError, match='empty'):
    layers.conv_transpose(jnp.ones((1, 4, 4, 3)), jnp.ones((3, 3, 3, 5)), 1, ((-4, 0), (0, 0)))


# Strided forward convolutions: (kernel, stride, padding, input size); odd sizes drop trailing inputs.
# The fast path takes k % s == 0 and k > s (4x4 s2, 6x6 s3); the others check the lax fallback.
_CONV_CASES = [(4, 2, 'SAME', 8), (4, 2, ((1, 1), (1, 1)), 9), (4, 2, 'VALID', 7), (6, 3, ((2, 0), (1, 2)), 10),
               (4, 4, 'SAME', 9), (3, 2, 'SAME', 7), (1, 2, 'VALID', 7), (2, 2, 'VALID', 5)]


@pytest.mark.parametrize('k,s,padding,n', _CONV_CASES)
def test_conv_general_dilated_matches_lax_with_gradients(k, s, padding, n):
  x, kernel = _normal(0, (2, n, n + 1, 3)), _normal(1, (k, k, 3, 4))

  def f(conv):
    return lambda a, b: conv(a, b, (s, s), padding, dimension_numbers=_DN,
                             precision=lax.Precision.HIGHEST)

  _assert_value_and_vjp_match_lax(f, x, kernel)


def _assert_value_and_vjp_match_lax(f, x, kernel):
  """f(conv) builds a conv of (x, kernel); ours and lax's agree in value and in both cotangents."""
  want, want_vjp = jax.vjp(f(lax.conv_general_dilated), x, kernel)
  got, got_vjp = jax.vjp(f(layers.conv_general_dilated), x, kernel)
  np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)
  g = _normal(2, want.shape)
  for a, b in zip(got_vjp(g), want_vjp(g)):
    assert a.shape == b.shape
    np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-4)


@pytest.mark.parametrize('k,s,fast', [(4, 2, True), (6, 3, True), (3, 2, False), (4, 4, False),
                                       (4, 1, False)])
def test_conv_general_dilated_takes_the_fast_path_only_when_the_stride_divides_the_kernel(k, s, fast):
  x, kernel = _normal(0, (1, 8, 8, 2)), _normal(1, (k, k, 2, 3))
  jaxpr = jax.make_jaxpr(lambda a, b: layers.conv_general_dilated(a, b, (s, s), 'SAME',
                                                                  dimension_numbers=_DN))(x, kernel)
  assert ('custom_vjp_call' in str(jaxpr)) == fast


def test_conv_general_dilated_in_flax_conv_second_order():
  # As a flax nn.Conv drop-in: same output, and a gradient penalty (grad of a grad) still matches.
  x = _normal(0, (2, 8, 8, 3))
  fast = nn.Conv(4, (4, 4), (2, 2), conv_general_dilated=layers.conv_general_dilated,
                 precision=lax.Precision.HIGHEST)
  ref = nn.Conv(4, (4, 4), (2, 2), precision=lax.Precision.HIGHEST)
  params = ref.init(jax.random.key(0), x)

  def penalty(module, p):
    g = jax.grad(lambda a: jnp.sum(module.apply(p, a) ** 2))(x)
    return jnp.sum(g ** 2)

  np.testing.assert_allclose(fast.apply(params, x), ref.apply(params, x), rtol=1e-5, atol=1e-5)
  got, want = jax.grad(lambda p: penalty(fast, p))(params), jax.grad(lambda p: penalty(ref, p))(params)
  for a, b in zip(jax.tree.leaves(got), jax.tree.leaves(want)):
    np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize('k,s,padding,n', [(3, 1, 'SAME', 7), (3, 2, ((1, 1), (1, 1)), 8), (5, 2, 'SAME', 9),
                                           (7, 2, ((2, 3), (3, 2)), 11), (3, 2, 'VALID', 6)])
def test_depthwise_conv_matches_lax_grouped_conv_with_gradients(k, s, padding, n):
  # MobileNet / Xception / NASNet depthwise convs: groups = channels, kernel [k, k, 1, C].
  x, kernel = _normal(0, (2, n, n + 1, 5)), _normal(1, (k, k, 1, 5))

  def f(conv):
    return lambda a, b: conv(a, b, (s, s), padding, dimension_numbers=_DN, feature_group_count=5,
                             precision=lax.Precision.HIGHEST)

  _assert_value_and_vjp_match_lax(f, x, kernel)
  jaxpr = str(jax.make_jaxpr(f(layers.conv_general_dilated))(x, kernel))
  assert 'conv_general_dilated' not in jaxpr  # the tap sum, not XLA's grouped convolution


@pytest.mark.parametrize('shape,s,padding,matmul', [
    ((5, 5), 1, 'VALID', True), ((4, 3), 2, ((0, 0), (0, 0)), True),
    ((5, 5), 1, 'SAME', False), ((5, 5), 1, ((1, 0), (0, 0)), False)])
def test_whole_input_conv_is_one_matmul_and_matches_lax_with_gradients(shape, s, padding, matmul):
  # LeNet-5's C5: a 5x5 unpadded kernel over a 5x5 map (any stride) gives one output pixel per image.
  x, kernel = _normal(0, (3, *shape, 4)), _normal(1, (*shape, 4, 6))

  def f(conv):
    return lambda a, b: conv(a, b, (s, s), padding, dimension_numbers=_DN, precision=lax.Precision.HIGHEST)

  _assert_value_and_vjp_match_lax(f, x, kernel)
  jaxpr = str(jax.make_jaxpr(f(layers.conv_general_dilated))(x, kernel))
  assert ('conv_general_dilated' not in jaxpr) == matmul  # padded: a real conv, left to lax


def test_grouped_but_not_depthwise_conv_stays_with_lax():
  x, kernel = _normal(0, (1, 6, 6, 4)), _normal(1, (3, 3, 2, 4))  # 2 groups of 2 channels (ResNeXt-like)
  jaxpr = jax.make_jaxpr(lambda a, b: layers.conv_general_dilated(a, b, (1, 1), 'SAME', dimension_numbers=_DN,
                                                                  feature_group_count=2))(x, kernel)
  assert 'conv_general_dilated' in str(jaxpr)
