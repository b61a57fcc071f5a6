"""StyleGAN2 training: R1 against hand values, lazy updates on the right steps, the lazy Adam correction,
exact resume, truncation, and a tiny run through the train loop."""
import collections
import json

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from ml_collections import ConfigDict

from configs import stylegan2_fashion_mnist
from gans.data.pipeline import DataSpec
from gans.train import loop, stylegan2_task
from gans.train.lazy_step import LazyStep, LazyUpdate, lazy_adam


def _config(**stylegan2_options):
  c = stylegan2_fashion_mnist.get_config()
  c.model.update(fmaps=1 / 512, cmax=8, z_dim=8, w_dim=8, map=1)
  c.image_size, c.batch_size = 8, 4
  c.stylegan2.update(stylegan2_options)
  return c


def _batch(n=4, size=8, seed=0):
  images = np.random.default_rng(seed).uniform(-1, 1, (n, size, size, 1)).astype(np.float32)
  return {"image": images, "label": np.zeros(n, np.int32)}


def test_r1_loss_of_a_linear_and_a_quadratic_critic_matches_hand_values():
  rng = np.random.default_rng(0)
  x = rng.normal(size=(5, 3, 3, 2)).astype(np.float32)
  w = rng.normal(size=(3, 3, 2)).astype(np.float32)
  linear = lambda v: jnp.sum(v * w, axis=(1, 2, 3))  # grad = w for every sample
  got = stylegan2_task.r1_loss(linear, jnp.asarray(x), gamma=0.3, interval=16)
  np.testing.assert_allclose(got, 16 * 0.3 / 2 * np.sum(w.astype(np.float64) ** 2), rtol=1e-5)
  quadratic = lambda v: 0.5 * jnp.sum(w * v * v, axis=(1, 2, 3))  # grad_i = w * x_i
  expected = np.mean([np.sum((w.astype(np.float64) * x[i]) ** 2) for i in range(len(x))]) * 4 * 10.0 / 2
  np.testing.assert_allclose(stylegan2_task.r1_loss(quadratic, jnp.asarray(x), gamma=10.0, interval=4), expected,
                             rtol=1e-5)


_Counter = collections.namedtuple("_Counter", "step")


def test_lazy_updates_run_exactly_on_multiples_of_their_interval():
  calls = {"main": [], "pl": [], "r1": []}

  def counting(name, advance=False):
    def fn(state, batch, rng):
      calls[name].append(int(state.step))
      return (_Counter(state.step + 1) if advance else state), {}
    return fn
  step = LazyStep(counting("main", advance=True), (LazyUpdate("pl", 4, counting("pl")),
                                                   LazyUpdate("r1", 16, counting("r1"))))
  state = _Counter(jnp.zeros((), jnp.int32))
  for _ in range(35):
    state, _ = step(state, None, None)
  assert calls["main"] == list(range(35))
  assert calls["pl"] == [0, 4, 8, 12, 16, 20, 24, 28, 32]
  assert calls["r1"] == [0, 16, 32]
  task = stylegan2_task.StyleGAN2Task(_config(), DataSpec((8, 8, 1), 10, 100))
  assert [(u.name, u.interval) for u in task.step.lazy] == [("path_length", 4), ("r1", 16)]


def test_lazy_adam_scales_learning_rate_and_betas_by_interval_over_interval_plus_one():
  cfg = ConfigDict({"name": "adam", "learning_rate": 0.002, "b1": 0.0, "b2": 0.99, "eps": 1e-8,
                    "schedule": "constant"})
  tx = lazy_adam(cfg, 100, 16)
  c = 16 / 17
  params = jnp.zeros(3)
  grads = [jnp.asarray([1.0, -2.0, 0.5]), jnp.asarray([0.3, 1.0, -4.0])]
  state, v = tx.init(params), np.zeros(3)
  for t, g in enumerate(grads, 1):  # Adam with b1 = 0 by hand: the update is -lr g / sqrt(v_hat)
    updates, state = tx.update(g, state, params)
    v = 0.99 ** c * v + (1 - 0.99 ** c) * np.asarray(g) ** 2
    np.testing.assert_allclose(updates, -0.002 * c * np.asarray(g) / (np.sqrt(v / (1 - 0.99 ** (c * t))) + 1e-8),
                               rtol=1e-5)


def test_resumed_state_equals_uninterrupted_state():
  task = stylegan2_task.StyleGAN2Task(_config(r1_interval=2, pl_interval=3), DataSpec((8, 8, 1), 10, 100))
  step = task.step.jit()
  rng = jax.random.key(3)
  batches = [_batch(seed=i) for i in range(4)]
  full = task.init(jax.random.key(0))
  for b in batches:
    full, _ = step(full, b, rng)
  split = task.init(jax.random.key(0))
  for b in batches[:2]:
    split, _ = step(split, b, rng)
  split = jax.tree.map(lambda x: jnp.asarray(np.asarray(x)), split)  # through the host, as a checkpoint
  for b in batches[2:]:
    split, _ = step(split, b, rng)
  assert int(full.step) == 4
  for a, b in zip(jax.tree.leaves(full), jax.tree.leaves(split)):
    np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
  assert float(full.extra["pl_mean"]) > 0 and float(full.extra["r1_penalty"]) > 0


def test_truncation_to_zero_gives_the_average_w_for_every_sample():
  task = stylegan2_task.StyleGAN2Task(_config(), DataSpec((8, 8, 1), 10, 100))
  state = task.init(jax.random.key(0))  # noise strengths start at 0: images depend on w only
  state = state.replace(g=state.g.replace(batch_stats=jax.tree.map(lambda a: a + 0.3, state.g.batch_stats)))
  free = task.sample(state, 4, seed=1, batch_size=2)
  truncated = task.sample(state, 4, seed=1, batch_size=2, truncation=0.0)
  assert free.shape == (4, 8, 8, 1) and np.abs(free[0] - free[1]).max() > 1e-4
  np.testing.assert_allclose(truncated, np.broadcast_to(truncated[:1], truncated.shape), atol=1e-5)
  with pytest.raises(Exception, match="unconditional"):
    task.sample(state, 2, seed=0, labels=[0, 1])


def test_tiny_run_through_the_train_loop(tmp_path, data_dir):
  c = _config()
  c.update(dataset="mnist_5k", data_dir=data_dir, total_steps=2, log_every=1, eval_every=2, checkpoint_every=2,
           num_devices=1)
  state = loop.train_and_evaluate(c, str(tmp_path))
  assert int(state.step) == 2
  lines = [json.loads(line) for line in open(tmp_path / "metrics.jsonl")]
  assert [line["step"] for line in lines if "g_loss" in line] == [1, 2]
  assert (tmp_path / "samples" / "step_2.png").exists() and (tmp_path / "samples" / "mixing_step_2.png").exists()


def test_style_mixing_grid_takes_coarse_styles_from_the_rows_and_the_rest_from_the_columns():
  task = stylegan2_task.StyleGAN2Task(_config(), DataSpec((8, 8, 1), 10, 100))
  state = task.init(jax.random.key(0))
  grid = task.style_mixing(state, seed=3, num=2, crossover=2)
  assert grid.shape == (9, 8, 8, 1)
  g = task.spec.generator
  variables = {"params": state.g_ema, "batch_stats": state.g.batch_stats}
  z_a, z_b = jax.random.normal(jax.random.key(3), (2, 2, task.spec.z_dim))
  ws_a, ws_b = (g.apply(variables, z, method=g.map) for z in (z_a, z_b))
  for i in range(2):
    for j in range(2):  # cell (i, j): layers 0-1 from B_i, layers 2.. from A_j, built by hand
      ws = jnp.concatenate([ws_b[i:i + 1, :2], ws_a[j:j + 1, 2:]], 1)
      cell = g.apply(variables, ws, "none", method=g.synthesize)
      np.testing.assert_allclose(grid[3 * (i + 1) + j + 1], cell[0], atol=1e-5)
  np.testing.assert_allclose(grid[1:3], g.apply(variables, ws_a, "none", method=g.synthesize), atol=1e-5)
  np.testing.assert_allclose(grid[[3, 6]], g.apply(variables, ws_b, "none", method=g.synthesize), atol=1e-5)
  assert not np.allclose(grid[4], grid[5])  # the columns' fine styles differ
  with pytest.raises(Exception, match="crossover"):
    task.style_mixing(state, seed=3, crossover=0)
