"""CycleGAN task: the history pool against a hand-run sequence, the losses and the learning-rate schedule against
hand values, resume exactness with the pools in the state, and a 2-step run with its evaluation and translation."""
import json
import os

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from configs import common, cyclegan_fashion_mnist
from gans import parallel
from gans.data import pipeline
from gans.errors import UserError
from gans.train import cyclegan_task, loop


def test_history_pool_fills_then_swaps_half_the_time():
  size, key = 3, jax.random.key(7)
  images = jnp.arange(8, dtype=jnp.float32).reshape(8, 1, 1, 1) + 100
  pool, count, out = cyclegan_task.history_pool(jnp.zeros((size, 1, 1, 1)), jnp.int32(0), images, key)
  # By hand: the first three images fill slots 0, 1, 2 and come back; after that each image i draws a coin
  # (uniform < 1/2: swap) and a slot from fold_in(key, i), as the rule says.
  stored, expected = [], []
  for i, image in enumerate(np.asarray(images[:, 0, 0, 0])):
    if len(stored) < size:
      stored.append(image)
      expected.append(image)
      continue
    k_swap, k_index = jax.random.split(jax.random.fold_in(key, i))
    if float(jax.random.uniform(k_swap)) < 0.5:
      slot = int(jax.random.randint(k_index, (), 0, size))
      expected.append(stored[slot])
      stored[slot] = image
    else:
      expected.append(image)
  assert int(count) == size
  np.testing.assert_array_equal(np.asarray(out[:, 0, 0, 0]), expected)
  np.testing.assert_array_equal(np.asarray(pool[:, 0, 0, 0]), stored)
  assert expected[:3] == [100, 101, 102]
  assert any(e != 100 + i for i, e in enumerate(expected)), "this key should swap at least once"
  assert any(e == 100 + i for i, e in enumerate(expected[3:], 3)), "and pass at least one image through"


def test_history_pool_keeps_filling_across_queries():
  pool, count = jnp.zeros((4, 1, 1, 1)), jnp.int32(0)
  pool, count, out = cyclegan_task.history_pool(pool, count, jnp.full((2, 1, 1, 1), 5.0), jax.random.key(0))
  assert int(count) == 2 and np.all(np.asarray(out) == 5)
  pool, count, out = cyclegan_task.history_pool(pool, count, jnp.full((1, 1, 1, 1), 6.0), jax.random.key(1))
  assert int(count) == 3
  np.testing.assert_array_equal(np.asarray(pool[:, 0, 0, 0]), [5, 5, 6, 0])


def test_cycle_identity_and_lsgan_losses_by_hand():
  a = jnp.asarray([[0.0, 1.0], [0.5, -1.0]])
  b = jnp.asarray([[1.0, 1.0], [1.0, 1.0]])
  cycled_a = jnp.asarray([[0.5, 1.0], [0.5, 0.0]])  # |diff| 0.5, 0, 0, 1 -> mean 0.375
  cycled_b = jnp.asarray([[1.0, 0.0], [1.0, 1.0]])  # mean 0.25
  assert float(cyclegan_task.cycle_loss(a, cycled_a, b, cycled_b, 10.0)) == pytest.approx(6.25)
  # identity: same_a = G_BA(a) against a, same_b = G_AB(b) against b; weight 0.5 * 10
  assert float(cyclegan_task.identity_loss(a, cycled_a, b, cycled_b, 5.0)) == pytest.approx(3.125)
  outputs = jnp.asarray([0.0, 0.5, 2.0])
  assert float(cyclegan_task.lsgan_loss(outputs, 1.0)) == pytest.approx((1 + 0.25 + 1) / 3)
  assert float(cyclegan_task.lsgan_loss(outputs, 0.0)) == pytest.approx((0 + 0.25 + 4) / 3)


def test_learning_rate_constant_for_half_then_linear_to_zero():
  schedule = cyclegan_task.half_then_linear(2e-4, 10)
  values = [float(schedule(t)) for t in range(11)]
  np.testing.assert_allclose(values, [2e-4] * 6 + [1.6e-4, 1.2e-4, 0.8e-4, 0.4e-4, 0.0], rtol=1e-6, atol=1e-12)


def _tiny_config():
  c = cyclegan_fashion_mnist.get_config()
  c.num_devices = 1
  c.model.update(n_blocks=1, ngf=4, ndf=4, n_layers_D=1, netD="n_layers")
  c.pool_size, c.batch_size = 3, 2
  c.domains.a_split, c.domains.b_split = "train[:600]", "train[600:1200]"
  c.eval_split = "test[:200]"
  c.total_steps, c.log_every, c.eval_every, c.checkpoint_every = 2, 1, 2, 1
  return c


@pytest.fixture(scope="module")
def tiny(data_dir):
  config = _tiny_config()
  mesh = parallel.mesh_from_config(config)
  task = loop.create_task(config, pipeline.data_spec(config), mesh)
  return config, task


def test_domains_are_the_two_classes_from_disjoint_splits(tiny):
  config, task = tiny
  a = cyclegan_task.domain_images(config, "train[:600]", 7)
  b = cyclegan_task.domain_images(config, "train[600:1200]", 9)
  assert a.shape[1:] == b.shape[1:] == (32, 32, 1) and 30 < len(a) < 120 and 30 < len(b) < 120
  np.testing.assert_array_equal(np.asarray(task.step.domains["A"]), a)
  np.testing.assert_array_equal(np.asarray(task.step.domains["B"]), b)


def test_resume_is_exact_with_the_pools_in_the_state(tiny):
  config, task = tiny
  rng = jax.random.key(config.seed)
  # The loop's own jitted step (it donates the state, so each run starts from a fresh copy); the 2-step run
  # below then finds it in the compilation cache.
  sharded = loop.shard_task(task, parallel.mesh_from_config(config), config, rng)
  state = jax.device_get(sharded.init(rng))
  fresh = lambda tree: jax.tree.map(jnp.asarray, tree)  # as a checkpoint round trip gives it back
  two, _ = sharded.step(sharded.step(fresh(state), None, rng)[0], None, rng)
  one = jax.device_get(sharded.step(fresh(state), None, rng)[0])
  resumed, _ = sharded.step(fresh(one), None, rng)
  for x, y in zip(jax.tree.leaves(two), jax.tree.leaves(resumed)):
    np.testing.assert_array_equal(np.asarray(x), np.asarray(y))
  assert int(two.pool_count["A"]) == 3 and int(one.pool_count["A"]) == 2  # batch 2, pool 3: full after step 2


def test_two_step_run_evaluates_and_translates(tiny, tmp_path):
  config, task = tiny
  state = loop.train_and_evaluate(config, str(tmp_path))
  lines = [json.loads(line) for line in open(tmp_path / "metrics.jsonl")]
  final = [l for l in lines if "cycle_l1_a" in l][-1]
  assert final["step"] == 2 and 0 < final["cycle_l1_a"] < 2 and "a_to_b_accuracy" not in final
  assert all(np.isfinite(l["g_loss"]) for l in lines if "g_loss" in l)
  assert os.path.exists(tmp_path / "translations" / "step_2.png")
  out = task.translate(state, np.full((28, 28, 1), 200, np.uint8))
  assert out.shape == (28, 28, 1) and out.dtype == np.uint8
  with pytest.raises(UserError, match=r"translates images \[H, W, 1\]"):
    task.translate(state, np.zeros((28, 28, 3), np.uint8))


def test_evaluation_with_a_classifier_scores_translations_in_the_target_class(tiny, tmp_path):
  config, task = tiny
  c = common.classifier_config()
  c.model = {"name": "lenet5", "head": "dense"}
  c.optimizer = common.optimizer("adam", 2e-3)
  c.update(dict(total_steps=1, batch_size=32, log_every=1, eval_every=1, checkpoint_every=1, num_devices=1,
                eval_split="test[:64]", eval_batch_size=32, preprocess="value_range(-1,1)"))
  loop.train_and_evaluate(c, str(tmp_path / "lenet"))
  scored = config.copy_and_resolve_references()
  scored.eval_classifier = str(tmp_path / "lenet")
  with_classifier = loop.create_task(scored, pipeline.data_spec(scored), parallel.mesh_from_config(scored))
  results = with_classifier.evaluate(task.init(jax.random.key(0)), 1, str(tmp_path / "cyclegan"))
  assert 0 <= results["a_to_b_accuracy"] <= 1 and 0 <= results["b_to_a_accuracy"] <= 1
  assert np.isfinite(results["a_to_b_fcd"]) and results["a_to_b_fcd"] > 0 and results["b_to_a_fcd"] > 0
  assert {"cycle_l1_a", "cycle_l1_b"} <= set(results)
