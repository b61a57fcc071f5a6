"""Tests of the Dual Path Networks and NASNet-A (gans/models/classifiers/{dpn,nasnet}.py).

Parameter counts are checked from shapes only (jax.eval_shape) against the references: timm's DPN
(the same counts are asserted in osmr/imgclsmob) and keras.applications' NASNetMobile / NASNetLarge
(measured with keras 3.15: `model.trainable_weights` / `non_trainable_weights`). An opt-in test
(GANS_KERAS_REFERENCE_TESTS=1, about a minute) copies keras NASNetMobile weights into the Flax model
and compares logits.
"""
import functools
import os

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from gans.errors import UserError
from gans.models import classifiers
from gans.models.classifiers import nasnet

# BatchNorm statistics of DPN = 2 * (BN channels), counted by hand from timm's DPN: stem
# `num_init_features`; each block BN(in) + BN(r) + BN(r), the first of a stage one more BN(in) for
# the projection; the final BN over all channels. Per part (stem, conv2..conv5, final):
# dpn68 10 + 1,028 + 3,104 + 18,560 + 9,024 + 832 = 32,558 (e.g. conv2, r = 128, in 10, 112, 128:
# (10 + 10 + 256) + (112 + 256) + (128 + 256) = 1,028); dpn92 64 + 1,328 + 4,128 + 41,696 + 12,704
# + 2,688 = 62,608; dpn98 82,448; dpn131 111,680; dpn107 106,912.
# name: (image size, trainable params, BN statistics, module whose output is the last feature map,
#        its shape [h, w, c]).
COUNTS = {
    "dpn68": (224, 12_611_602, 2 * 32_558, "conv5_bn_ac", (7, 7, 832)),
    "dpn92": (224, 37_668_392, 2 * 62_608, "conv5_bn_ac", (7, 7, 2688)),
    "dpn98": (224, 61_570_728, 2 * 82_448, "conv5_bn_ac", (7, 7, 2688)),
    "dpn131": (224, 79_254_504, 2 * 111_680, "conv5_bn_ac", (7, 7, 2688)),
    "dpn107": (224, 86_917_800, 2 * 106_912, "conv5_bn_ac", (7, 7, 2688)),
    # keras: 5,326,716 total = 5,289,978 trainable + 36,738 moving statistics; keras' no-top model
    # ends in a 7x7x1056 map.
    "nasnet_a_mobile": (224, 5_289_978, 36_738, "normal_12", (7, 7, 1056)),
    # keras: 88,949,818 total = 88,753,150 trainable + 196,668 moving statistics; 11x11x4032 map.
    "nasnet_a_large": (331, 88_753_150, 196_668, "normal_18", (11, 11, 4032)),
}


def _count(tree) -> int:
  return int(sum(np.prod(x.shape) for x in jax.tree.leaves(tree)))


def _trace(model, shape, capture: str = ""):
  """Variables (and the output of the submodule named `capture`) from shapes only."""
  fn = functools.partial(model.init_with_output, train=False, mutable=True,
                         capture_intermediates=lambda mdl, _: mdl.name == capture)
  _, variables = jax.eval_shape(fn, jax.random.key(0), jnp.zeros(shape))
  if not capture:
    return variables, None
  (feature,) = variables["intermediates"][capture]["__call__"]
  return variables, feature[0] if isinstance(feature, tuple) else feature  # a cell returns (x, p)


def test_names_registered():
  assert set(COUNTS) <= set(classifiers.names())


@pytest.mark.parametrize("name", sorted(COUNTS))
def test_parameter_counts_and_feature_map(name):
  size, params, stats, capture, feature_shape = COUNTS[name]
  variables, feature = _trace(classifiers.create(name), (1, size, size, 3), capture)
  assert _count(variables["params"]) == params
  assert _count(variables["batch_stats"]) == stats
  assert feature.shape == (1, *feature_shape)


def test_dpn_small_inputs_changes_only_stem_and_head():
  _, params, stats, capture, _ = COUNTS["dpn92"]
  stem_kernel, stem, features = 7, 64, 2688
  model = classifiers.create("dpn92", num_classes=10, small_inputs=True)
  for shape, grid in (((1, 32, 32, 3), 4), ((1, 28, 28, 1), 4)):  # 32, 16, 8, 4; 28, 14, 7, 4
    variables, feature = _trace(model, shape, capture)
    channels = shape[-1]
    # The stem conv becomes 3x3 (3 * 3 * channels * stem) and the head has 10 classes.
    expected = (params - stem_kernel**2 * 3 * stem + 9 * channels * stem
                - 990 * (features + 1))
    assert _count(variables["params"]) == expected
    assert _count(variables["batch_stats"]) == stats
    assert feature.shape == (1, grid, grid, features)


@pytest.mark.parametrize("name,shape,grid", [  # two reductions: 32 -> 8, 28 -> 7
    ("nasnet_a_mobile", (1, 32, 32, 3), 8), ("nasnet_a_mobile", (1, 28, 28, 1), 7),
    ("nasnet_a_large", (1, 32, 32, 3), 8)])
def test_nasnet_small_inputs_use_cifar_stem(name, shape, grid):
  _, _, _, capture, (_, _, width) = COUNTS[name]
  model = classifiers.create(name, num_classes=10, small_inputs=True)
  variables, feature = _trace(model, shape, capture)
  assert feature.shape == (1, grid, grid, width)
  cells = variables["params"]
  assert "stem_1" not in cells and "stem_2" not in cells
  # The stem output reaches the first Normal cell through a 1x1 projection to its width.
  assert cells["normal_0"]["adjust"]["conv_projection"]["kernel"].shape[-2:] == (
      cells["stem_conv1"]["kernel"].shape[-1], width // 24)  # first-stage cell width


def _fake_variables(model, x):
  """Cheap deterministic variables of the right shapes (real init costs a compile per shape)."""
  rng = np.random.default_rng(0)

  def fill(path, leaf):
    name = path[-1].key
    if name in ("scale", "var"):
      return jnp.ones(leaf.shape, leaf.dtype)
    if name in ("bias", "mean"):
      return jnp.zeros(leaf.shape, leaf.dtype)
    fan_in = np.prod(leaf.shape[:-1])
    return jnp.asarray(rng.standard_normal(leaf.shape) / np.sqrt(fan_in), leaf.dtype)

  shapes = jax.eval_shape(functools.partial(model.init, train=False), jax.random.key(0), x)
  return jax.tree_util.tree_map_with_path(fill, shapes)


# One input shape per family (compiling dominates); both shapes are traced in the tests above.
@pytest.mark.parametrize("name,shape", [
    ("dpn68", (2, 32, 32, 3)), ("nasnet_a_mobile", (2, 28, 28, 1))])
def test_forward_small_inputs(name, shape):
  x = jax.random.normal(jax.random.key(1), shape)
  model = classifiers.create(name, num_classes=10, small_inputs=True, dropout=0.5)
  variables = _fake_variables(model, x)
  logits = jax.jit(functools.partial(model.apply, train=False))(variables, x)
  assert logits.shape == (2, 10) and logits.dtype == jnp.float32
  assert np.all(np.isfinite(logits))

  def train_step(v, x, key):
    return model.apply(v, x, train=True, mutable=["batch_stats"], rngs={"dropout": key})

  train = jax.jit(train_step)
  logits, state = train(variables, x, jax.random.key(2))
  assert logits.shape == (2, 10) and np.all(np.isfinite(logits))
  other, _ = train(variables, x, jax.random.key(3))
  assert not np.allclose(logits, other)  # dropout is active in training
  # Every running mean moved towards its (non-zero) batch mean.
  assert jax.tree.structure(state["batch_stats"]) == jax.tree.structure(variables["batch_stats"])
  means = [v for path, v in jax.tree_util.tree_leaves_with_path(state["batch_stats"])
           if path[-1].key == "mean"]
  assert means and all(np.any(m != 0) for m in means)


@pytest.mark.parametrize("name", ["dpn68", "nasnet_a_mobile"])
def test_bfloat16_computes_in_bfloat16_with_float32_params(name):
  model = classifiers.create(name, num_classes=10, small_inputs=True, dtype=jnp.bfloat16)
  x = jnp.ones((1, 32, 32, 3))
  variables = _fake_variables(model, x)
  assert all(v.dtype == jnp.float32 for v in jax.tree.leaves(variables))
  jaxpr = jax.make_jaxpr(functools.partial(model.apply, train=False))(variables, x)
  convs = [e for e in jaxpr.eqns if e.primitive.name == "conv_general_dilated"]
  assert convs and all(e.invars[0].aval.dtype == jnp.bfloat16 for e in convs)
  assert jaxpr.out_avals[0].dtype == jnp.float32


def _tf_same_pads(size: int, kernel: int) -> tuple[int, int]:
  """TensorFlow's 'SAME' padding for stride 2 (the extra pixel at the end)."""
  total = max((-(-size // 2) - 1) * 2 + kernel - size, 0)
  return total // 2, total - total // 2


@pytest.mark.parametrize("size", [7, 8, 111, 112])
@pytest.mark.parametrize("kernel", [3, 5, 7])
def test_correct_pad_is_tf_same_padding(size, kernel):
  pads = nasnet._correct_pad(jnp.zeros((1, size, size, 1)), kernel)
  assert pads == (_tf_same_pads(size, kernel),) * 2


def test_same_average_pool_excludes_padding():
  x = jnp.arange(16.0).reshape(1, 4, 4, 1)
  y = nasnet._avg_pool_same(x)
  assert y[0, 0, 0, 0] == pytest.approx((0 + 1 + 4 + 5) / 4)  # corner: 4 real pixels
  assert y[0, 1, 1, 0] == pytest.approx(np.mean([0, 1, 2, 4, 5, 6, 8, 9, 10]))


def test_factorized_reduction_golden():
  # p: 5x5 with one negative pixel; the current cell input is 3x3, so p is reduced by two 1x1
  # stride-2 paths, the second shifted by one pixel (zero beyond the border), then BN.
  p = np.arange(1.0, 26.0).reshape(1, 5, 5, 1)
  p[0, 1, 1, 0] = -7.0
  block = nasnet.AdjustBlock(filters=2)
  variables = block.init(jax.random.key(0), jnp.asarray(p), jnp.zeros((1, 3, 3, 4)), train=False)
  ones = jax.tree_util.tree_map_with_path(
      lambda path, v: jnp.zeros_like(v) if path[-1].key in ("bias", "mean") else jnp.ones_like(v),
      variables)
  out = block.apply(ones, jnp.asarray(p), jnp.zeros((1, 3, 3, 4)), train=False)
  relu = np.maximum(p[0, :, :, 0], 0)
  path1 = relu[::2, ::2]
  path2 = np.zeros((3, 3))
  path2[:2, :2] = relu[1::2, 1::2]
  expected = np.stack([path1, path2], -1) / np.sqrt(1 + 1e-3)
  np.testing.assert_allclose(out[0], expected, rtol=1e-6)


@pytest.mark.parametrize("name,kwargs", [
    ("dpn68", {"num_classes": 0}), ("dpn92", {"dropout": 1.0}),
    ("nasnet_a_mobile", {"num_classes": -1}), ("nasnet_a_large", {"dropout": -0.1})])
def test_bad_arguments_raise_user_error(name, kwargs):
  with pytest.raises(UserError):
    classifiers.create(name, **kwargs)


def test_bad_config_or_shape_raises_user_error():
  model = nasnet.NASNet(10, penultimate_filters=1000, num_blocks=4, stem_filters=32,
                        skip_reduction=False)
  with pytest.raises(UserError):
    jax.eval_shape(functools.partial(model.init, train=False), jax.random.key(0),
                   jnp.zeros((1, 32, 32, 3)))
  with pytest.raises(UserError):
    jax.eval_shape(functools.partial(classifiers.create("dpn68").init, train=False),
                   jax.random.key(0), jnp.zeros((32, 32, 3)))


@pytest.mark.skipif(os.environ.get("GANS_KERAS_REFERENCE_TESTS") != "1",
                    reason="slow: builds keras NASNetMobile (set GANS_KERAS_REFERENCE_TESTS=1)")
def test_nasnet_mobile_matches_keras():
  import keras  # pylint: disable=g-import-not-at-top

  size = 75  # odd sizes 37, 19, 5 exercise the asymmetric padding
  reference = keras.applications.NASNetMobile(weights=None, input_shape=(size, size, 3),
                                              classes=10, classifier_activation=None)
  rng = np.random.default_rng(0)
  for layer in reference.layers:  # non-trivial BN statistics
    if isinstance(layer, keras.layers.BatchNormalization):
      c = layer.gamma.shape[0]
      layer.set_weights([rng.uniform(0.5, 1.5, c), rng.normal(0, 0.1, c),
                         rng.normal(0, 0.1, c), rng.uniform(0.5, 1.5, c)])
  model = classifiers.create("nasnet_a_mobile", num_classes=10)
  x = rng.normal(size=(2, size, size, 3)).astype(np.float32)
  variables = jax.eval_shape(functools.partial(model.init, train=False), jax.random.key(0), x)

  def keras_value(path, leaf):
    _, *mods, leaf_name = [str(k.key) for k in path]
    weights = None
    if mods[0] in ("stem_conv1", "stem_bn1", "predictions"):
      layer_name = mods[0]
    else:
      cell = mods[0]
      reduction = cell.startswith(("stem_", "reduce_"))
      kind, block = ("reduction", cell) if reduction else ("normal", cell.split("_")[1])
      if mods[1] == "adjust":
        layer_name = f"adjust_{mods[2]}_{block}"
      elif mods[1] in ("conv_1", "bn_1"):
        layer_name = f"{kind}_{mods[1]}_{block}"
      else:  # separable block: depthwise_i / pointwise_i / bn_i
        sub, i = mods[2].rsplit("_", 1)
        bn = "bn_" if sub == "bn" else ""
        layer_name = f"separable_conv_{i}_{bn}{kind}_{mods[1]}_{block}"
        weights = sub
    values = {w.path.split("/")[-1]: np.asarray(w.numpy())
              for w in reference.get_layer(layer_name).weights}
    if weights == "depthwise":
      value = values["depthwise_kernel"].transpose(0, 1, 3, 2)
    elif weights == "pointwise":
      value = values["pointwise_kernel"]
    else:
      names = {"scale": "gamma", "mean": "moving_mean", "var": "moving_variance"}
      key = "beta" if leaf_name == "bias" and "beta" in values else names.get(leaf_name, leaf_name)
      value = values[key]
    assert value.shape == leaf.shape, (path, layer_name)
    return jnp.asarray(value)

  variables = jax.tree_util.tree_map_with_path(keras_value, variables)
  np.testing.assert_allclose(model.apply(variables, x, train=False),
                             np.asarray(reference(x, training=False)), atol=1e-4, rtol=1e-4)
  logits, _ = model.apply(variables, x, train=True, mutable=["batch_stats"])
  np.testing.assert_allclose(logits, np.asarray(reference(x, training=True)), atol=1e-4,
                             rtol=1e-4)
