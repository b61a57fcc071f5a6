"""The tricks of Salimans et al. 2016 that enter as registered pieces: one-sided label smoothing (sec. 3.4),
historical averaging (sec. 3.3) and virtual batch normalisation (sec. 3.4); each checked against its
definition computed independently."""
import functools

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from ml_collections import ConfigDict

from gans import losses
from gans.data.pipeline import DataSpec
from gans.errors import UserError
from gans.models import layers
from gans.models.gan import dcgan, mlp
from gans.train import gan_parts, gan_step, gan_tricks


def _spec(**kw):
  defaults = dict(generator=mlp.Generator(out_shape=(2,), hidden=(8,)), discriminator=mlp.Discriminator(hidden=(8,)),
                  g_tx=optax.adam(1e-2), d_tx=optax.adam(1e-2), loss=losses.get_loss("nsgan"), z_dim=3)
  defaults.update(kw)
  return gan_step.GANSpec(**defaults)


def _batch(n, seed=0):
  return {"image": jax.random.normal(jax.random.key(seed), (n, 2)), "label": jnp.zeros((n,), jnp.int32)}


def _config(**kw):
  c = ConfigDict({"loss": "nsgan", "batch_size": 8, "variant": "unconditional", "model": {"name": "dcgan"}})
  c.update(kw)
  return c


def test_label_smoothing_is_cross_entropy_with_real_targets_one_minus_alpha():
  alpha = 0.1
  real, fake = np.array([2.0, -1.0, 0.3, 4.0]), np.array([-0.5, 1.5, 0.0, -3.0])
  smoothing = gan_tricks.LabelSmoothing(alpha)
  heads = lambda x: {"adv": jnp.asarray(x, jnp.float32)}
  term, _ = smoothing.d_terms(gan_parts.DTerms(heads(real), heads(fake), None, {}, None, None, None, {}))
  smoothed = losses.get_loss("nsgan").d_loss(real, fake) + term
  sigmoid = lambda x: 1 / (1 + np.exp(-x))
  t = 1 - alpha  # real targets 1 - alpha, fake targets 0 (one-sided)
  expected = np.mean(-(t * np.log(sigmoid(real)) + (1 - t) * np.log(1 - sigmoid(real)))) + np.mean(
      -np.log(1 - sigmoid(fake)))
  np.testing.assert_allclose(smoothed, expected, rtol=1e-6)


def test_label_smoothing_options():
  assert gan_tricks.LabelSmoothing.from_config(_config(label_smoothing=0.0), None) is None
  assert gan_tricks.LabelSmoothing.from_config(_config(label_smoothing=0.2), None).alpha == 0.2
  with pytest.raises(UserError, match="label_smoothing must be in"):
    gan_tricks.LabelSmoothing.from_config(_config(label_smoothing=1.5), None)
  with pytest.raises(UserError, match="cross-entropy"):
    gan_tricks.LabelSmoothing.from_config(_config(label_smoothing=0.1, loss="wasserstein"), None)


def test_historical_average_is_the_mean_of_every_past_parameter_value():
  weight = 0.05
  spec = _spec(tricks=(gan_tricks.HistoricalAveraging(weight),))
  state = gan_step.init_state(spec, jax.random.key(0), (2,))
  step = jax.jit(functools.partial(gan_step.train_step, spec))
  seen_g, seen_d = [state.g.params], [state.d.params]
  for i in range(3):
    state, metrics = step(state, _batch(8, seed=i), jax.random.key(1))
    seen_g.append(state.g.params)
    seen_d.append(state.d.params)
  mean = lambda trees: jax.tree.map(lambda *xs: np.mean(np.stack(xs), 0), *trees)
  average = state.extra["historical_average"]
  for got, want in ((average["g"], mean(seen_g)), (average["d"], mean(seen_d))):
    for a, b in zip(jax.tree.leaves(got), jax.tree.leaves(want)):
      np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-7)
  # The term of each player is weight * ||theta - average||^2 over all its parameters.
  term, logged = spec.tricks[0].g_terms(gan_parts.GTerms(None, {}, None, None, None, state.g.params, state.extra))
  distance = sum(np.sum((np.asarray(a) - np.asarray(b)) ** 2)
                 for a, b in zip(jax.tree.leaves(state.g.params), jax.tree.leaves(average["g"])))
  np.testing.assert_allclose(term, weight * distance, rtol=1e-5)
  assert distance > 0 and "d_historical_distance" in metrics and "g_historical_distance" in metrics


def test_historical_averaging_pulls_towards_the_average():
  """With a huge weight the players barely leave their initial parameters (the average they are pulled to)."""
  free = _spec()
  held = _spec(tricks=(gan_tricks.HistoricalAveraging(1e4),), g_tx=optax.sgd(1e-6), d_tx=optax.sgd(1e-6))
  moved = []
  for spec in (free, held):
    state0 = gan_step.init_state(spec, jax.random.key(0), (2,))
    state, _ = jax.jit(functools.partial(gan_step.train_step, spec))(state0, _batch(8), jax.random.key(1))
    state, _ = jax.jit(functools.partial(gan_step.train_step, spec))(state, _batch(8, 1), jax.random.key(1))
    moved.append(max(float(jnp.max(jnp.abs(a - b)))
                     for a, b in zip(jax.tree.leaves(state.d.params), jax.tree.leaves(state0.d.params))))
  assert moved[1] < moved[0]


def _vbn_numpy(x, n, eps=1e-5):
  """The authors' virtual batch norm on [B, H, W, C] with the first n rows as the reference batch."""
  ref = x[:n]
  ref_mean, ref_sq = ref.mean((0, 1, 2)), (ref ** 2).mean((0, 1, 2))
  out = np.empty_like(x)
  for i, xi in enumerate(x):
    if i < n:
      mean, sq = ref_mean, ref_sq
    else:
      w = 1 / (n + 1)
      mean = w * xi.mean((0, 1)) + (1 - w) * ref_mean
      sq = w * (xi ** 2).mean((0, 1)) + (1 - w) * ref_sq
    out[i] = (xi - mean) / np.sqrt(sq - mean ** 2 + eps)
  return out


def test_virtual_batch_norm_against_its_definition_and_batch_independence():
  x = np.random.default_rng(0).normal(2.0, 3.0, size=(6, 3, 3, 4)).astype(np.float32)
  layer = layers.VirtualBatchNorm(reference_size=4)
  variables = layer.init(jax.random.key(0), x)
  np.testing.assert_allclose(layer.apply(variables, x), _vbn_numpy(x.astype(np.float64), 4), rtol=1e-4, atol=1e-4)
  other = x.copy()
  other[5] = -x[5] * 7  # another batch-mate: example 4's output must not change
  np.testing.assert_allclose(layer.apply(variables, other)[4], layer.apply(variables, x)[4], rtol=1e-6)


def test_virtual_batch_norm_trick_keeps_its_reference_batch_and_samples_independently():
  size = 4
  spec = _spec(generator=dcgan.Generator(image_size=8, channels=1, width=4, virtual_batch=size),
               discriminator=dcgan.Discriminator(width=4), tricks=(gan_tricks.VirtualBatchNormReference(size),))
  state = gan_step.init_state(spec, jax.random.key(0), (8, 8, 1))
  assert state.extra["vbn_reference"]["z"].shape == (size, 3) and not jax.tree.leaves(state.g.batch_stats)
  batch = {"image": jax.random.normal(jax.random.key(2), (8, 8, 8, 1)), "label": jnp.zeros((8,), jnp.int32)}
  new, metrics = jax.jit(functools.partial(gan_step.train_step, spec))(state, batch, jax.random.key(1))
  assert np.isfinite(float(metrics["g_loss"]))
  np.testing.assert_array_equal(new.extra["vbn_reference"]["z"], state.extra["vbn_reference"]["z"])
  z = jax.random.normal(jax.random.key(3), (5, 3))
  together = gan_step.generate(spec, new, z)
  alone = gan_step.generate(spec, new, z[2:3])
  assert together.shape == (5, 8, 8, 1)
  np.testing.assert_allclose(alone[0], together[2], rtol=1e-5, atol=1e-6)  # no dependence on batch-mates


def test_virtual_batch_norm_options():
  data = DataSpec((8, 8, 1), 0, 0)
  assert gan_tricks.VirtualBatchNormReference.from_config(_config(virtual_batch_norm=0), data) is None
  assert gan_tricks.VirtualBatchNormReference.from_config(_config(virtual_batch_norm=16), data).model_options() == {
      "g_virtual_batch": 16}
  with pytest.raises(UserError, match="dcgan generator"):
    gan_tricks.VirtualBatchNormReference.from_config(_config(virtual_batch_norm=16, model={"name": "mlp"}), data)
