"""The GAN train step: pure, sharding-invariant, n_critic, clipping and EMA as the papers say."""
import functools

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from gans import losses, parallel, penalties
from gans.models.gan import mlp
from gans.train import gan_step, gan_tricks


def _spec(**kw):
  defaults = dict(generator=mlp.Generator(out_shape=(2,), hidden=(16,)), discriminator=mlp.Discriminator(hidden=(16,)),
                  g_tx=optax.adam(1e-2), d_tx=optax.adam(1e-2), loss=losses.get_loss("nsgan"), z_dim=4)
  defaults.update(kw)
  return gan_step.GANSpec(**defaults)


def _batch(n, seed=0):
  return {"image": jax.random.normal(jax.random.key(seed), (n, 2)), "label": jnp.zeros((n,), jnp.int32)}


def _run(spec, steps, batch_size=8, mesh=None):
  state = gan_step.init_state(spec, jax.random.key(0), (2,))
  step = jax.jit(functools.partial(gan_step.train_step, spec))
  for i in range(steps):
    batch = _batch(batch_size * spec.n_critic, seed=i)
    if mesh is not None:
      batch = jax.device_put(batch, parallel.data_sharded(mesh))
      state = jax.device_put(state, parallel.replicated(mesh))
    state, metrics = step(state, batch, jax.random.key(1))
  return state, metrics


def _max_diff(a, b):
  pairs = zip(jax.tree.leaves(a), jax.tree.leaves(b))
  return max(float(np.max(np.abs(np.asarray(x) - np.asarray(y)))) for x, y in pairs)


def test_step_is_pure():
  spec = _spec()
  state = gan_step.init_state(spec, jax.random.key(0), (2,))
  step = jax.jit(functools.partial(gan_step.train_step, spec))
  a, ma = step(state, _batch(8), jax.random.key(3))
  b, mb = step(state, _batch(8), jax.random.key(3))
  assert _max_diff(a, b) == 0.0 and ma["d_loss"] == mb["d_loss"]
  c, _ = step(state, _batch(8), jax.random.key(4))  # another key gives another z
  assert _max_diff(a.g.params, c.g.params) > 0


def test_one_step_changes_both_networks_and_counts_steps():
  spec = _spec()
  state0 = gan_step.init_state(spec, jax.random.key(0), (2,))
  state1, metrics = _run(spec, 1)
  assert int(state1.step) == 1
  assert _max_diff(state0.g.params, state1.g.params) > 0 and _max_diff(state0.d.params, state1.d.params) > 0
  assert set(metrics) >= {"d_loss", "g_loss", "penalty", "d_real", "d_fake"}


def test_n_critic_does_n_discriminator_updates_per_generator_update():
  spec = _spec(n_critic=3)
  state, _ = _run(spec, 2)
  d_count = int(state.d.opt_state[0].count)
  g_count = int(state.g.opt_state[0].count)
  assert (d_count, g_count) == (6, 2)


def test_weight_clipping_bounds_every_critic_weight():
  spec = _spec(loss=losses.get_loss("wasserstein"), tricks=(gan_tricks.WeightClip(0.01),), d_tx=optax.rmsprop(5e-2))
  state, _ = _run(spec, 3)
  leaves = jax.tree.leaves(state.d.params)
  assert max(float(jnp.max(jnp.abs(x))) for x in leaves) <= 0.01
  assert max(float(jnp.max(jnp.abs(x))) for x in leaves) == pytest.approx(0.01)  # clipping was active


def test_ema_follows_its_formula():
  decay = 0.9
  spec = _spec(ema_decay=decay)
  state0 = gan_step.init_state(spec, jax.random.key(0), (2,))
  state1, _ = _run(spec, 1)
  expected = jax.tree.map(lambda old, new: decay * old + (1 - decay) * new, state0.g.params, state1.g.params)
  assert _max_diff(state1.g_ema, expected) < 1e-7
  assert _max_diff(state1.g_ema, state1.g.params) > 0


def test_penalty_enters_the_discriminator_loss():
  spec = _spec(penalty=penalties.get_penalty("gradient_penalty"), penalty_weight=10.0,
               loss=losses.get_loss("wasserstein"))
  _, metrics = _run(spec, 1)
  assert float(metrics["penalty"]) > 0


@pytest.mark.parametrize("n_critic", [1, 2])
def test_four_devices_match_one_device(n_critic):
  assert jax.device_count() >= 4
  spec1 = _spec(n_critic=n_critic)
  mesh4 = parallel.make_mesh(4)
  spec4 = _spec(n_critic=n_critic, batch_sharding=parallel.data_sharded(mesh4))
  one, _ = _run(spec1, 3, mesh=parallel.make_mesh(1))
  four, _ = _run(spec4, 3, mesh=mesh4)
  assert _max_diff(one, four) < 1e-5


def test_split_step_on_four_devices_compiles_the_critic_once_and_equals_the_whole_step():
  # The launcher's form (gan_step.SplitStep.jit with the state replicated and the batch sharded).
  mesh = parallel.make_mesh(4)
  spec = _spec(n_critic=3, batch_sharding=parallel.data_sharded(mesh),
               penalty=penalties.get_penalty("gradient_penalty"), penalty_weight=10.0, ema_decay=0.9)
  repl, data = parallel.replicated(mesh), parallel.data_sharded(mesh)
  state = jax.device_put(gan_step.init_state(spec, jax.random.key(0), (2,)), repl)
  whole = jax.jit(functools.partial(gan_step.train_step, spec))
  split = gan_step.split_step(spec).jit(in_shardings=(repl, data, repl), out_shardings=(repl, repl))
  assert isinstance(split, gan_step.SplitStep)
  a = b = state
  for i in range(2):
    batch = jax.device_put(_batch(8 * 3, seed=i), data)
    a, ma = whole(a, batch, jax.random.key(1))
    b, mb = split(b, batch, jax.random.key(1))
  assert _max_diff(a, b) < 1e-6 and _max_diff(ma, mb) < 1e-6 and int(b.step) == 2
  assert split.critic._cache_size() == 1  # one executable for all three D updates (i is traced)
  compiled, flops = split.compile(b, batch, jax.random.key(1))  # what launch.benchmark times
  assert flops > 0
  c, _ = compiled(b, batch, jax.random.key(2))
  assert int(c.step) == 3 and _max_diff(c.d.params, b.d.params) > 0


def test_split_step_with_one_critic_update_is_jitted_whole():
  spec = _spec()
  step = gan_step.split_step(spec).jit()
  assert not isinstance(step, gan_step.SplitStep)
  state = gan_step.init_state(spec, jax.random.key(0), (2,))
  assert "jit_train_step" in step.fn.lower(state, _batch(8), jax.random.key(1)).as_text()  # named in profiles


def test_unconditional_step_ignores_labels_and_keeps_no_extra_state():
  spec = _spec()
  state = gan_step.init_state(spec, jax.random.key(0), (2,))
  assert state.extra == {} and spec.variant.cond_dim == 0
  step = jax.jit(functools.partial(gan_step.train_step, spec))
  batch = _batch(8)
  a, _ = step(state, batch, jax.random.key(3))
  b, _ = step(state, {**batch, "label": jnp.arange(8, dtype=jnp.int32)}, jax.random.key(3))
  assert _max_diff(a, b) == 0.0


def test_packed_discriminator_gets_half_the_batch():
  seen = []

  class Probe(mlp.Discriminator):
    def __call__(self, x, cond=None, train=True):
      seen.append(x.shape)
      return super().__call__(x, cond, train)

  spec = _spec(discriminator=Probe(hidden=(16,)), tricks=(gan_tricks.Pack(2),))
  state = gan_step.init_state(spec, jax.random.key(0), (2,))
  gan_step.train_step(spec, state, _batch(8), jax.random.key(1))
  assert (4, 4) in seen and all(s[1] == 4 for s in seen)  # [B/m, m * 2] (Lin et al. 2018)


@pytest.mark.parametrize("n_critic", [1, 2])
def test_gradient_accumulation_equals_the_large_batch_step(n_critic):
  """Without BatchNorm, 4 micro-batches of 4 give the update of one batch of 16 (same z, same data)."""
  large, _ = _run(_spec(n_critic=n_critic), 3, batch_size=16)
  micro, metrics = _run(_spec(n_critic=n_critic, accum_steps=4), 3, batch_size=16)
  start = gan_step.init_state(_spec(), jax.random.key(0), (2,))
  assert _max_diff(large, micro) < 1e-5 and _max_diff(large.g.params, start.g.params) > 1e-3
  assert np.isfinite(float(metrics["d_loss"]))


def test_gradient_accumulation_runs_both_networks_on_micro_batches():
  seen = []

  class Probe(mlp.Discriminator):
    def __call__(self, x, cond=None, train=True):
      seen.append(x.shape[0])
      return super().__call__(x, cond, train)

  spec = _spec(discriminator=Probe(hidden=(16,)), accum_steps=4)
  state = gan_step.init_state(spec, jax.random.key(0), (2,))
  seen.clear()
  gan_step.train_step(spec, state, _batch(16), jax.random.key(1))
  assert seen and set(seen) == {4}


def test_a_fresh_state_can_be_donated_with_ema_and_historical_averaging():
  """No buffer appears twice in the state (EMA and the historical average start as copies of the weights)."""
  spec = _spec(ema_decay=0.9, tricks=(gan_tricks.HistoricalAveraging(1e-3),))
  state = gan_step.init_state(spec, jax.random.key(0), (2,))
  ids = [x.unsafe_buffer_pointer() for x in jax.tree.leaves(state)]
  assert len(ids) == len(set(ids))
  step = jax.jit(functools.partial(gan_step.train_step, spec), donate_argnums=0)
  state, _ = step(state, _batch(8), jax.random.key(1))
  assert int(state.step) == 1
