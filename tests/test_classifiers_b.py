"""Tests for ResNet/ResNeXt/SE-ResNet, DenseNet, MobileNet v1/v2 and ShuffleNet v1/v2 classifiers.

Parameter counts are checked with `jax.eval_shape` (no compute) against the reference
implementations' published numbers; forward passes run on tiny 32x32x3 / 28x28x1 batches.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from gans.errors import UserError
from gans.models import classifiers
from gans.models.classifiers import densenet, mobilenet, resnet, shufflenet

# Trainable parameters at 224x224x3 and 1000 classes, from the references:
# tv = torchvision weights meta "num_params"; timm = timm / Cadene pretrainedmodels / osmr imgclsmob
# test asserts (seresnet50 28088024, seresnet101 49326872, seresnext50_32x4d 27559896);
# keras = keras.applications model.summary() "Trainable params"; osmr = imgclsmob `_test()` asserts
# (shufflenet_g{1,3,8}_w1, shufflenet_g3_wd2, mobilenet_w3d4 / _wd2 / _wd4).
PARAMS = {
    "resnet18": 11_689_512,  # tv
    "resnet34": 21_797_672,  # tv
    "resnet50": 25_557_032,  # tv
    "resnet101": 44_549_160,  # tv
    "resnet152": 60_192_808,  # tv
    "resnext50_32x4d": 25_028_904,  # tv
    "resnext101_32x8d": 88_791_336,  # tv
    "resnext101_64x4d": 83_455_272,  # tv
    "wide_resnet50_2": 68_883_240,  # tv
    "wide_resnet101_2": 126_886_696,  # tv
    "se_resnet50": 28_088_024,  # timm seresnet50
    "se_resnet101": 49_326_872,  # timm seresnet101
    "se_resnext50_32x4d": 27_559_896,  # timm seresnext50_32x4d
    "densenet121": 7_978_856,  # tv
    "densenet169": 14_149_480,  # tv
    "densenet201": 20_013_928,  # tv
    "densenet161": 28_681_000,  # tv
    "mobilenet_v1": 4_231_976,  # keras MobileNet(alpha=1.0), osmr mobilenet_w1
    "mobilenet_v1_0.75": 2_585_560,  # osmr mobilenet_w3d4
    "mobilenet_v1_0.5": 1_331_592,  # osmr mobilenet_wd2
    "mobilenet_v1_0.25": 470_072,  # osmr mobilenet_wd4
    "mobilenet_v2": 3_504_872,  # tv, keras MobileNetV2
    "shufflenet_v2_x0_5": 1_366_792,  # tv
    "shufflenet_v2_x1_0": 2_278_604,  # tv
    "shufflenet_v2_x1_5": 3_503_624,  # tv
    "shufflenet_v2_x2_0": 7_393_996,  # tv
    "shufflenet_v1": 1_865_728,  # osmr shufflenet_g3_w1 (g=3, 1x)
}
# BatchNorm running statistics (mean + var), Keras summaries' "Non-trainable params".
BATCH_STATS = {"resnet50": 53_120, "densenet121": 83_648, "densenet169": 158_400,
               "mobilenet_v1": 21_888, "mobilenet_v2": 34_112}


def _shapes(name, size=224, channels=3, **kwargs):
  model = classifiers.create(name, **kwargs)
  return jax.eval_shape(model.init, jax.random.key(0), jnp.zeros((1, size, size, channels)))


def _size(tree) -> int:
  return sum(int(np.prod(x.shape)) for x in jax.tree.leaves(tree))


def test_all_names_registered():
  assert set(PARAMS) <= set(classifiers.names())


@pytest.mark.parametrize("name", sorted(PARAMS))
def test_param_count_matches_reference(name):
  variables = _shapes(name)
  assert _size(variables["params"]) == PARAMS[name]
  assert all(x.dtype == jnp.float32 for x in jax.tree.leaves(variables))
  # Every BatchNorm has a trainable scale and bias of the size of its running mean and variance.
  stats = jax.tree_util.tree_flatten_with_path(variables["batch_stats"])[0]
  params = dict(jax.tree_util.tree_flatten_with_path(variables["params"])[0])
  for path, leaf in stats:
    for key in ("scale", "bias"):
      assert params[path[:-1] + (jax.tree_util.DictKey(key),)].shape == leaf.shape
  if name in BATCH_STATS:
    assert _size(variables["batch_stats"]) == BATCH_STATS[name]


@pytest.mark.parametrize("name,kwargs,expected", [
    ("shufflenet_v1", {"groups": 1}, 1_531_936),  # osmr shufflenet_g1_w1
    ("shufflenet_v1", {"groups": 8}, 2_434_768),  # osmr shufflenet_g8_w1
    ("shufflenet_v1", {"width": 0.5}, 718_324),  # osmr shufflenet_g3_wd2
    ("mobilenet_v1", {"width": 0.5}, 1_331_592),  # osmr mobilenet_wd2
])
def test_param_count_of_kwarg_variants(name, kwargs, expected):
  assert _size(_shapes(name, **kwargs)["params"]) == expected


def test_mobilenet_v2_half_width_count_by_hand():
  # torchvision width_mult=0.5: channels make_divisible(c / 2, 8) worked out by hand from
  # Sandler et al. Table 2: stem 16; blocks 8, 16, 16, 32, 48, 80, 160; last conv stays 1280.
  def conv_bn(cin, cout, k=1, depthwise=False):
    return (k * k * cout if depthwise else k * k * cin * cout) + 2 * cout

  total, cin = conv_bn(3, 16, 3), 16
  for t, c, n in [(1, 8, 1), (6, 16, 2), (6, 16, 3), (6, 32, 4), (6, 48, 3), (6, 80, 3),
                  (6, 160, 1)]:
    for _ in range(n):
      hidden = cin * t
      total += (conv_bn(cin, hidden) if t != 1 else 0) + conv_bn(hidden, hidden, 3, True)
      total += conv_bn(hidden, c)
      cin = c
  total += conv_bn(cin, 1280) + 1280 * 1000 + 1000
  assert _size(_shapes("mobilenet_v2", width=0.5)["params"]) == total


def test_small_inputs_only_changes_the_stem():
  # resnet18 CIFAR stem: the 7x7x3x64 stem kernel becomes 3x3x3x64.
  count = _size(_shapes("resnet18", 32, small_inputs=True)["params"])
  assert count == PARAMS["resnet18"] - (7 * 7 - 3 * 3) * 3 * 64
  # 1-channel inputs: 3x3x1x64 stem kernel.
  count = _size(_shapes("resnet18", 28, 1, small_inputs=True)["params"])
  assert count == PARAMS["resnet18"] - (7 * 7 * 3 - 3 * 3) * 64


def _variables(model, x):
  """Variables with the shapes `model.init` gives, filled on the host (He-normal weights, unit BN).

  Compiling `model.init` costs more than compiling the forward pass (one RNG per parameter), so
  the forward tests build variables from `jax.eval_shape` instead; `test_init_*` cover `init`.
  """
  rng = np.random.default_rng(0)

  def fill(path, leaf):
    key = path[-1].key
    if key in ("scale", "var"):
      return np.ones(leaf.shape, np.float32)
    if key in ("bias", "mean"):
      return np.zeros(leaf.shape, np.float32)
    std = np.sqrt(2.0 / np.prod(leaf.shape[:-1]))
    return rng.normal(0.0, std, leaf.shape).astype(np.float32)

  shapes = jax.eval_shape(model.init, jax.random.key(0), x)
  return jax.tree_util.tree_map_with_path(fill, shapes)


def _flat(tree):
  return {tuple(k.key for k in path): leaf
          for path, leaf in jax.tree_util.tree_flatten_with_path(tree)[0]}


def _check_forward(model, shape):
  x = jax.random.normal(jax.random.key(1), shape)
  variables = _variables(model, x)

  @jax.jit
  def run(variables, x):
    train, updates = model.apply(variables, x, train=True, mutable=["batch_stats"],
                                 rngs={"dropout": jax.random.key(2)})
    return train, model.apply(variables, x, train=False), updates

  train, evaluation, updates = run(variables, x)
  for logits in (train, evaluation):
    assert logits.shape == (shape[0], 10) and logits.dtype == jnp.float32
    assert bool(jnp.all(jnp.isfinite(logits)))
  # Training mode normalises with batch statistics and updates the running averages. (Every
  # running variance moves; some running means stay 0, e.g. after a linear 1x1 conv of BatchNorm
  # outputs, which have zero batch mean.)
  assert not np.allclose(train, evaluation)
  old, new = _flat(variables["batch_stats"]), _flat(updates["batch_stats"])
  assert old.keys() == new.keys()
  assert all(not np.allclose(old[k], new[k]) for k in old if k[-1] == "var")


# One registered model per family (the cheapest to compile), on CIFAR- and MNIST-shaped batches.
@pytest.mark.parametrize("name,shape", [
    ("resnet18", (2, 32, 32, 3)),
    ("resnet18", (2, 28, 28, 1)),
    ("mobilenet_v1_0.25", (2, 32, 32, 3)),
    ("mobilenet_v2", (2, 32, 32, 3)),
    ("shufflenet_v1", (2, 28, 28, 1)),
    ("shufflenet_v2_x0_5", (2, 32, 32, 3)),
])
def test_forward_small_inputs(name, shape):
  _check_forward(classifiers.create(name, num_classes=10, small_inputs=True), shape)


# densenet121 (58 layers of distinct shapes) and the SE-ResNeXts take 5-15 s each to compile here,
# so their code paths run on shallower instances of the same classes.
@pytest.mark.parametrize("model,shape", [
    (densenet.DenseNet((2, 2, 2, 2), growth_rate=8, num_init_features=16, num_classes=10,
                       small_inputs=True), (2, 28, 28, 1)),
    (resnet.ResNet((1, 1, 1, 1), num_classes=10, groups=4, base_width=4, se_reduction=16,
                   small_inputs=True), (2, 32, 32, 3)),
])
def test_forward_small_variants(model, shape):
  _check_forward(model, shape)


def test_bfloat16_eval_is_per_example_with_float32_params_and_logits():
  model = resnet.ResNet((1, 1), num_classes=10, small_inputs=True, dtype=jnp.bfloat16)
  x = jax.random.normal(jax.random.key(1), (3, 32, 32, 3))
  variables = _variables(model, x)
  assert all(v.dtype == jnp.float32 for v in jax.tree.leaves(variables))
  apply = jax.jit(lambda v, x: model.apply(v, x, train=False))
  full, first = apply(variables, x), apply(variables, x[:1])
  assert full.dtype == jnp.float32 and bool(jnp.all(jnp.isfinite(full)))
  np.testing.assert_allclose(full[:1], first, rtol=0.05, atol=0.05)  # bfloat16 tolerance


def test_init_zero_residual_and_conv_init():
  x = jnp.abs(jax.random.normal(jax.random.key(0), (2, 5, 5, 32)))
  blocks = [  # zero_init_residual everywhere; only the last block has no residual sum
      resnet.ResidualBlock(32, bottleneck=False, zero_init_residual=True, dtype=jnp.bfloat16),
      resnet.ResidualBlock(8, groups=4, base_width=16, se_reduction=4, zero_init_residual=True),
      mobilenet.InvertedResidual(32, 1, 6, zero_init_residual=True),
      mobilenet.InvertedResidual(24, 1, 6, zero_init_residual=True),
  ]
  init = jax.jit(lambda key: [b.init(key, x, train=False) for b in blocks])(jax.random.key(1))
  out = jax.jit(lambda vs: [b.apply(v, x, train=False) for b, v in zip(blocks, vs)])(init)
  assert all(p.dtype == jnp.float32 for p in jax.tree.leaves(init))
  # The last BN scale is zero, so the branch outputs 0: relu(0 + x) = x (x >= 0) and 0 + x = x.
  for y in out[:3]:
    np.testing.assert_array_equal(y, x)
  params = init[3]["params"]
  np.testing.assert_array_equal(params["project"]["bn"]["scale"], np.ones(24))
  # He-normal fan-out init of the 1x1 expand conv (torchvision): std sqrt(2 / 192), 32x192 weights.
  assert abs(float(params["expand"]["conv"]["kernel"].std()) - np.sqrt(2 / 192)) < 0.01


def test_channel_shuffle_matches_hand_example():
  x = jnp.arange(6.0).reshape(1, 1, 1, 6)
  # groups 3: [[0, 1], [2, 3], [4, 5]] transposed and flattened (Zhang et al. 2018, Fig. 1c).
  np.testing.assert_array_equal(shufflenet.channel_shuffle(x, 3)[0, 0, 0], [0, 2, 4, 1, 3, 5])
  np.testing.assert_array_equal(shufflenet.channel_shuffle(x, 2)[0, 0, 0], [0, 3, 1, 4, 2, 5])


@pytest.mark.parametrize("value,expected", [(8, 8), (12, 16), (3.2, 8), (44.8, 48), (20, 24),
                                            (10, 16), (1792, 1792)])
def test_make_divisible(value, expected):
  assert mobilenet.make_divisible(value) == expected


@pytest.mark.parametrize("name,kwargs", [
    ("resnet50", {"num_classes": 0}),
    ("mobilenet_v2", {"width": 0.0}),
    ("mobilenet_v1", {"width": -1.0}),
    ("shufflenet_v1", {"groups": 5}),
])
def test_bad_arguments_raise_user_error(name, kwargs):
  with pytest.raises(UserError):
    classifiers.create(name, **kwargs)


def test_shufflenet_v1_width_that_breaks_groups_raises_user_error():
  with pytest.raises(UserError):  # 0.3x: 72 - 7 = 65 output channels in 3 groups
    _shapes("shufflenet_v1", 32, width=0.3)


def test_non_image_input_raises_user_error():
  model = classifiers.create("resnet18", num_classes=10, small_inputs=True)
  with pytest.raises(UserError):
    model.init(jax.random.key(0), jnp.zeros((32, 32, 3)))


@pytest.mark.parametrize("depth", [20, 32, 44, 56, 110])
def test_cifar_resnet_counts_by_hand(depth):
  # He et al. 2016, sec. 4.2: 3x3 conv (16) + BN, 3 stages of n basic blocks (16, 32, 64 filters),
  # option A shortcuts (no parameters), 64 -> 10 fc. Table 6: 0.27M / 0.46M / 0.66M / 0.85M / 1.7M.
  n = (depth - 2) // 6
  total = 3 * 3 * 3 * 16 + 2 * 16
  cin = 16
  for c in (16, 32, 64):
    for _ in range(n):
      total += 3 * 3 * cin * c + 2 * c + 3 * 3 * c * c + 2 * c
      cin = c
  total += 64 * 10 + 10
  count = _size(_shapes(f"resnet{depth}", 32, num_classes=10)["params"])
  assert count == total
  assert round(count / 1e6, 2) == {20: 0.27, 32: 0.46, 44: 0.66, 56: 0.85, 110: 1.73}[depth]
  if depth == 20:
    assert count == 269_722  # akamaster/pytorch_resnet_cifar10


def test_cifar_resnet_option_a_shortcut_is_subsampled_input_with_zero_channels():
  block = resnet.ResidualBlock(8, strides=2, bottleneck=False, zero_pad_shortcut=True)
  x = jax.random.normal(jax.random.key(0), (1, 6, 6, 4))
  variables = block.init(jax.random.key(1), x, train=False)
  zeroed = jax.tree.map(jnp.zeros_like, variables)  # residual branch -> 0: output = relu(shortcut)
  out = block.apply(zeroed, x, train=False)
  expected = np.concatenate([np.maximum(np.asarray(x)[:, ::2, ::2], 0), np.zeros((1, 3, 3, 4))], -1)
  # BN with zero scale and bias outputs 0 whatever the input, so only the shortcut remains.
  np.testing.assert_allclose(np.asarray(out), expected, atol=1e-6)
