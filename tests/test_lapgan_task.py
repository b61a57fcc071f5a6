"""LAPGAN training: each level's real target and conditioning, one step moves every level, sampling shapes,
the pyramid picture."""
import jax
import jax.numpy as jnp
import numpy as np
from PIL import Image

from configs import lapgan_fashion_mnist
from gans.data.pipeline import DataSpec
from gans.models.gan import lapgan
from gans.train import lapgan_task


def _task(size=32):
  c = lapgan_fashion_mnist.get_config()
  c.model.update(hidden_g0=16, hidden_d0=8, hidden_g=4, hidden_d=4, noise_dim=6)
  c.batch_size = 4
  return lapgan_task.LAPGANTask(c, DataSpec((size, size, 1), 10, 100))


def test_levels_are_the_pyramid_and_the_upsampled_coarser_real_image():
  x = jnp.asarray(np.random.default_rng(0).normal(size=(2, 32, 32, 3)).astype(np.float32))
  levels = lapgan_task.real_levels(x, 3)
  assert [t.shape[1] for t, _ in levels] == [8, 16, 32] and levels[0][1] is None
  x16 = lapgan.downsample(x)
  x8 = lapgan.downsample(x16)
  np.testing.assert_allclose(levels[0][0], x8, atol=1e-6)
  np.testing.assert_allclose(levels[1][1], lapgan.upsample(x8), atol=1e-6)
  np.testing.assert_allclose(levels[2][1], lapgan.upsample(x16), atol=1e-6)
  np.testing.assert_allclose(levels[2][0] + levels[2][1], x, atol=1e-5)  # h_0 + u(I_1) = I_0
  np.testing.assert_allclose(levels[1][0] + levels[1][1], x16, atol=1e-5)


def test_one_step_changes_every_level_and_sampling_gives_every_scale(tmp_path):
  task = _task()
  state = task.init(jax.random.key(0))
  batch = {"image": np.random.default_rng(1).uniform(-1, 1, (4, 32, 32, 1)).astype(np.float32),
           "label": np.zeros(4, np.int32)}
  new, metrics = task.step.jit()(state, batch, jax.random.key(1))
  assert sorted(state.g.params) == sorted(state.d.params) == ["16", "32", "8"]
  for net in ("g", "d"):
    for level in ("8", "16", "32"):
      before = jax.tree.leaves(getattr(state, net).params[level])
      after = jax.tree.leaves(getattr(new, net).params[level])
      assert all(not np.array_equal(a, b) for a, b in zip(before, after)), (net, level)
  assert all(np.isfinite(float(v)) for v in metrics.values()) and "d_loss_16" in metrics
  levels = task.sample_levels(new, 3, seed=0)
  assert [x.shape for x in levels] == [(3, 8, 8, 1), (3, 16, 16, 1), (3, 32, 32, 1)]
  assert task.sample(new, 5, seed=0, batch_size=2).shape == (5, 32, 32, 1)
  np.testing.assert_allclose(task.sample(new, 3, seed=4, batch_size=3), task.sample_levels(new, 3, seed=4)[-1],
                             atol=1e-5)
  task.evaluate(new, 1, str(tmp_path))
  assert (tmp_path / "samples" / "step_1.png").exists()
  picture = np.asarray(Image.open(tmp_path / "samples" / "pyramid_step_1.png"))
  assert picture.shape[:2] == (2 * (3 * 34 + 2), 2 * (8 * 34 + 2))  # 3 rows of 8, 32 px + 2 padding, x2
