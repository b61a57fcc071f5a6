"""Sampling options of BigGAN (Brock et al. 2019): standing statistics of the EMA generator (app. C) and the
truncation trick (sec. 3.1), checked against hand computations."""
import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from configs import common
from gans import losses
from gans.data.pipeline import DataSpec
from gans.errors import UserError
from gans.models import layers
from gans.models.gan import mlp
from gans.train import gan_step, gan_task


class _TinyGenerator(nn.Module):
  """z -> Dense(4) -> BN -> ReLU -> Dense(3) -> BN: two BNs, the second fed by the first's batch-normalised output."""

  @nn.compact
  def __call__(self, z, cond=None, train=True):
    h = nn.relu(layers.batch_norm(train, jnp.float32, name="bn1")(nn.Dense(4, name="dense1")(z)))
    return layers.batch_norm(train, jnp.float32, name="bn2")(nn.Dense(3, name="dense2")(h))


def _numpy_bn(x, scale, bias, eps=1e-5):
  mean, var = x.mean(0), x.var(0)
  return (x - mean) / np.sqrt(var + eps) * scale + bias, mean, var


def test_standing_stats_are_the_mean_of_the_batch_statistics_with_the_ema_weights():
  spec = gan_step.GANSpec(generator=_TinyGenerator(), discriminator=mlp.Discriminator(hidden=(4,)),
                          g_tx=optax.sgd(0.1), d_tx=optax.sgd(0.1), loss=losses.get_loss("hinge"), z_dim=2,
                          ema_decay=0.9)
  state = gan_step.init_state(spec, jax.random.key(0), (3,))
  ema = jax.tree.map(lambda p: p * 1.5 + 0.1, state.g.params)  # EMA weights unlike the raw ones
  state = state.replace(g_ema=ema, g=state.g.replace(batch_stats=jax.tree.map(lambda s: s + 7.0,
                                                                              state.g.batch_stats)))
  rng, num_batches, batch = jax.random.key(5), 3, 6
  got = jax.jit(lambda s, r: gan_task.standing_stats(spec, s, r, num_batches, batch))(state, rng)
  p = jax.tree.map(np.asarray, ema)
  sums = {"bn1": [0, 0], "bn2": [0, 0]}
  for k in range(num_batches):
    z = np.asarray(gan_step.sample_inputs(spec, jax.random.fold_in(rng, k), batch)[0], np.float64)
    h1 = z @ p["dense1"]["kernel"] + p["dense1"]["bias"]
    n1, m1, v1 = _numpy_bn(h1, p["bn1"]["scale"], p["bn1"]["bias"])
    h2 = np.maximum(n1, 0) @ p["dense2"]["kernel"] + p["dense2"]["bias"]
    _, m2, v2 = _numpy_bn(h2, p["bn2"]["scale"], p["bn2"]["bias"])
    for name, m, v in (("bn1", m1, v1), ("bn2", m2, v2)):
      sums[name][0] = sums[name][0] + m
      sums[name][1] = sums[name][1] + v
  for name in ("bn1", "bn2"):
    np.testing.assert_allclose(got[name]["mean"], sums[name][0] / num_batches, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(got[name]["var"], sums[name][1] / num_batches, rtol=1e-4, atol=1e-5)


def _task(**overrides):
  c = common.gan_config()
  c.model.g_width = c.model.d_width = 8
  c.model.z_dim = 6
  c.update(dict(batch_size=8, total_steps=10, ema_decay=0.9), **overrides)
  return gan_task.GANTask(c, DataSpec(shape=(28, 28, 1), num_classes=10, num_examples=100))


def test_sample_uses_standing_stats_of_its_seed_only_for_the_ema_generator():
  task = _task(standing_stats_batches=2)
  state = task.init(jax.random.key(0))
  state = state.replace(g_ema=jax.tree.map(lambda p: p * 1.2, state.g.params))
  samples = task.sample(state, 4, seed=3)
  stats = gan_task.standing_stats(task.spec, state, jax.random.fold_in(jax.random.key(3),
                                                                       gan_task.STANDING_STATS_STREAM), 2, 8)
  z, _, _ = gan_step.sample_inputs(task.spec, jax.random.key(3), 4)
  standing = state.replace(g=state.g.replace(batch_stats=stats))
  np.testing.assert_allclose(samples, gan_step.generate(task.spec, standing, z), rtol=1e-5, atol=1e-6)
  running = gan_step.generate(task.spec, state, z)
  assert np.abs(samples - running).max() > 1e-3  # the running statistics would give other samples
  no_ema = state.replace(g_ema=None)  # the raw generator keeps its running statistics
  np.testing.assert_allclose(task.sample(no_ema, 4, seed=3), gan_step.generate(task.spec, no_ema, z), rtol=1e-5,
                             atol=1e-6)
  with pytest.raises(UserError, match="standing_stats_batches"):
    _task(standing_stats_batches=-1)


def _recorded_z(task, state, **kw):
  seen = []
  generate = task._generate

  def spy(state, z, cond):
    seen.append(np.asarray(z))
    return generate(state, z, cond)

  task._generate = spy
  try:
    task.sample(state, 300, seed=1, batch_size=150, **kw)
  finally:
    task._generate = generate
  return np.concatenate(seen)


def test_truncation_bounds_every_z_and_none_is_the_plain_draw():
  task = _task()
  state = task.init(jax.random.key(0))
  plain = _recorded_z(task, state)
  np.testing.assert_array_equal(plain, jax.random.normal(jax.random.key(1), (300, 6)))
  assert np.abs(plain).max() > 2.0  # the plain draw does go beyond the thresholds below
  for t in (0.5, 2.0):
    z = _recorded_z(task, state, truncation=t)
    assert z.shape == (300, 6) and np.abs(z).max() <= t
    assert z.std() > 0.4 * t  # spread over [-T, T], not collapsed to 0
  with pytest.raises(UserError, match="truncation must be a positive"):
    task.sample(state, 4, seed=0, truncation=0.0)
