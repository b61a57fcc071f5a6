"""Tests of the airbench network (gans/models/classifiers/airbench.py): counts, map sizes, head, training,
the whitening initialisation and the config's `data_init_images` that applies it."""
import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from configs import common
from gans import parallel
from gans.data import eval_input
from gans.data.pipeline import DataSpec
from gans.errors import UserError
from gans.models import classifiers
from gans.models.classifiers import airbench
from gans.train import classifier_task


def _count(tree) -> int:
  return int(sum(np.prod(x.shape) for x in jax.tree.leaves(tree)))


def _params_by_hand(channels: int, widths, classes: int, convs: int = 2) -> int:
  """Whitening conv 2x2 (+bias) to 8 * channels; per group `convs` bias-free 3x3 convs and as many
  scale-free BatchNorms (offsets only); a bias-free linear head."""
  whiten = 8 * channels
  total, prev = 4 * channels * whiten + whiten, whiten
  for w in widths:
    total += 9 * prev * w + (convs - 1) * 9 * w * w + convs * w
    prev = w
  return total + prev * classes


@pytest.mark.parametrize("name,shape,widths,params,convs", [
    ("airbench", (1, 32, 32, 3), (64, 256, 256), 1_971_640, 2),     # airbench94 on CIFAR-10
    ("airbench", (1, 28, 28, 1), (32, 128, 128), 492_648, 2),       # configs/airbench_fashion_mnist.py
    ("airbench96", (1, 32, 32, 3), (128, 512, 512), 12_717_752, 3)])  # airbench96 on CIFAR-10
def test_parameter_counts_by_hand(name, shape, widths, params, convs):
  model = classifiers.create(name, num_classes=10, small_inputs=True, widths=widths)
  variables = jax.eval_shape(functools.partial(model.init, train=False), jax.random.key(0), jnp.zeros(shape))
  assert _count(variables["params"]) == params == _params_by_hand(shape[-1], widths, 10, convs)
  assert _count(variables["batch_stats"]) == 2 * convs * sum(widths)  # mean and var per BatchNorm channel
  assert not any("scale" in bn for name, bn in variables["params"].items() if "_bn" in name)


@pytest.mark.parametrize("size,grids", [(32, (15, 7, 3)), (28, (13, 6, 3))])
def test_group_maps_halve_after_the_unpadded_whitening_conv(size, grids):
  model = classifiers.create("airbench", num_classes=10, widths=(8, 16, 16))
  fn = functools.partial(model.init_with_output, train=False,
                         capture_intermediates=lambda mdl, _: (mdl.name or "").endswith("conv2"))
  _, variables = jax.eval_shape(fn, jax.random.key(0), jnp.zeros((1, size, size, 1)))
  got = {name: out["__call__"][0].shape for name, out in variables["intermediates"].items()}
  assert got == {f"group{i + 1}_conv2": (1, g, g, w) for i, (g, w) in enumerate(zip(grids, (8, 16, 16)))}


def _batch():
  rng = np.random.default_rng(0)
  return jnp.asarray(rng.normal(size=(16, 28, 28, 1)), jnp.float32), jnp.asarray(rng.integers(0, 10, 16))


def test_logit_scale_multiplies_the_logits():
  x, _ = _batch()
  ninth = classifiers.create("airbench", num_classes=10, widths=(8, 16, 16))
  one = classifiers.create("airbench", num_classes=10, widths=(8, 16, 16), logit_scale=1.0)
  variables = ninth.init(jax.random.key(0), x)
  apply = lambda model: model.apply(variables, x, train=True, mutable=["batch_stats"])[0]  # BN on the batch
  a, b = apply(ninth), apply(one)
  assert np.abs(b).max() > 0.1
  np.testing.assert_allclose(a, b / 9, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("name,varies", [("airbench", False), ("airbench96", True)])
def test_airbench96_groups_carry_their_first_activation_past_the_later_convs(name, varies):
  """With every group's later conv kernels zero, a group of airbench outputs GELU(0) whatever its input;
  airbench96's residual still carries the first activation through, so its logits depend on the image."""
  x, _ = _batch()
  model = classifiers.create(name, num_classes=10, widths=(8, 16, 16))
  variables = model.init(jax.random.key(0), x)
  zero_later = lambda path, leaf: jnp.zeros_like(leaf) if any(
      getattr(k, "key", "").endswith(("_conv2", "_conv3")) for k in path) else leaf
  variables = jax.tree_util.tree_map_with_path(zero_later, variables)
  logits = model.apply(variables, x, train=False)
  assert (np.ptp(np.asarray(logits), axis=0).max() > 1e-4) == varies


def test_sgd_steps_lower_the_training_loss(monkeypatch):
  x, y = _batch()
  task = _airbench_task(monkeypatch, None, shape=(28, 28, 1), model={"name": "airbench", "widths": (8, 16, 16),
                                                                     "logit_scale": 1.0}, label_smoothing=0.0)
  state, step, losses = task.init(jax.random.key(0)), jax.jit(task.step), []
  for _ in range(8):
    state, metrics = step(state, {"image": x, "label": y}, jax.random.key(1))
    losses.append(float(metrics["loss"]))
  assert np.all(np.isfinite(losses)) and losses[-1] < 0.5 * losses[0]
  assert not np.allclose(state.batch_stats["group1_bn1"]["mean"], 0)  # running statistics follow the batches


@pytest.mark.parametrize("kwargs", [{"widths": (32, 0, 128)}, {"logit_scale": 0.0}, {"num_classes": 0}])
def test_bad_arguments_raise_user_error(kwargs):
  with pytest.raises(UserError):
    classifiers.create("airbench", **kwargs)


def test_non_image_input_raises_user_error():
  with pytest.raises(UserError, match="NHWC"):
    classifiers.create("airbench", num_classes=10).init(jax.random.key(0), jnp.zeros((28, 28, 1)))


def test_whitening_kernel_whitens_patches_under_a_real_conv():
  rng = np.random.default_rng(0)
  mix = np.array([[1.0, 0.5], [0.0, 0.2]])  # correlated channels, one with little variance
  x = (rng.normal(size=(40, 9, 9, 2)) @ mix + 0.3).astype(np.float32)
  kernel = airbench.whitening_kernel(x, eps=0.0)
  assert kernel.shape == (2, 2, 2, 16)
  z = jax.lax.conv_general_dilated(x, kernel, (1, 1), "VALID", dimension_numbers=("NHWC", "HWIO", "NHWC"),
                                   precision="highest")
  z = np.asarray(z, np.float64).reshape(-1, 16)
  moment = z.T @ z / len(z)  # second moment of the outputs: [[I, -I], [-I, I]]
  np.testing.assert_allclose(moment, np.block([[np.eye(8), -np.eye(8)], [-np.eye(8), np.eye(8)]]), atol=2e-4)
  # eps shrinks direction k by sqrt(lambda_k / (lambda_k + eps)): the smallest eigenvalue feels it most.
  damped = airbench.whitening_kernel(x, eps=1e-2).reshape(8, 16)[:, :8]
  ratios = np.linalg.norm(damped, axis=0) / np.linalg.norm(kernel.reshape(8, 16)[:, :8], axis=0)
  assert ratios[0] < ratios[-1] <= 1.0


def _airbench_task(monkeypatch, images, shape=(12, 12, 1), **overrides):
  monkeypatch.setattr(eval_input, "first_train_images", lambda config, n: images[:n])
  c = common.classifier_config()
  c.model = {"name": "airbench", "widths": (4, 8, 8), "logit_scale": 1.0}
  c.total_steps = 10
  c.optimizer = common.optimizer("sgd", 0.1, momentum=0.9)
  c.model = overrides.pop("model", c.model)
  c.update(overrides)
  return classifier_task.ClassifierTask(c, DataSpec(shape, 10, 100), parallel.make_mesh(1))


def test_data_init_images_sets_the_whitening_kernel_and_freeze_keeps_it(monkeypatch):
  rng = np.random.default_rng(1)
  images = rng.uniform(-1, 1, (32, 12, 12, 1)).astype(np.float32)
  task = _airbench_task(monkeypatch, images, data_init_images=20, freeze="whiten/kernel")
  state = task.init(jax.random.key(0))
  want = airbench.whitening_kernel(images[:20])
  np.testing.assert_allclose(state.params["whiten"]["kernel"], want, rtol=1e-6)
  batch = {"image": jnp.asarray(images[:8]), "label": jnp.arange(8) % 10}
  new, _ = jax.jit(task.step)(state, batch, jax.random.key(1))
  np.testing.assert_array_equal(new.params["whiten"]["kernel"], want)  # frozen
  assert not np.allclose(new.params["whiten"]["bias"], state.params["whiten"]["bias"])  # trained
  # Without the option the kernel is the random default.
  plain = _airbench_task(monkeypatch, images).init(jax.random.key(0))
  assert not np.allclose(plain.params["whiten"]["kernel"], want)


def test_data_init_images_on_a_model_without_data_init_is_a_user_error(monkeypatch):
  images = np.zeros((4, 12, 12, 1), np.float32)
  with pytest.raises(UserError, match="no data-dependent initialisation"):
    _airbench_task(monkeypatch, images, model={"name": "lenet5"}, data_init_images=4)


def test_negative_data_init_images_is_a_user_error(monkeypatch):
  with pytest.raises(UserError, match="data_init_images"):
    _airbench_task(monkeypatch, np.zeros((4, 12, 12, 1), np.float32), data_init_images=-1)


def test_first_train_images_are_the_unaugmented_start_of_the_train_split(data_dir):
  c = common.fashion_mnist_classifier("x", "airbench", epochs=1, learning_rate=0.1, weight_decay=0.0)
  c.data_dir = data_dir
  images = eval_input.first_train_images(c, 5)
  assert images.shape == (5, 28, 28, 1) and images.dtype == np.float32
  ds, _ = eval_input.eval_dataset(c, "train", per_process=False)
  first = np.stack([ex["image"] for ex in ds.take(5).as_numpy_iterator()])
  np.testing.assert_array_equal(images, first)
  assert images.min() == -1.0 and images.max() <= 1.0  # value_range(-1,1), the black background at -1
