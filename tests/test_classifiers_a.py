"""Tests of the classic CNN classifiers: LeNet-5, AlexNet, ZFNet, VGG, Inception family, Xception,
SqueezeNet (gans/models/classifiers/{lenet,alexnet,vgg,inception,xception,squeezenet}.py).

Parameter counts are checked from shapes only (jax.eval_shape) against the reference
implementations' published counts or counts derived by hand in the comments.
"""
import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from gans.errors import UserError
from gans.models import classifiers
from gans.models.classifiers import alexnet, blocks, lenet

NAMES = ["lenet5", "alexnet", "zfnet", "vgg11", "vgg11_bn", "vgg13", "vgg13_bn", "vgg16",
         "vgg16_bn", "vgg19", "vgg19_bn", "googlenet", "inception_v3", "inception_resnet_v2",
         "xception", "squeezenet1_0", "squeezenet1_1"]

# name: (kwargs, image size, trainable params, BatchNorm statistics (running means + variances)).
# VGG (torchvision): convs sum 9*c_in*c_out + c_out; fc 25088*4096+4096 + 4096*4096+4096 +
# 4096*1000+1000 = 123,642,856. Conv totals: vgg11 9,220,480, vgg13 9,404,992, vgg16 14,714,688,
# vgg19 20,024,384. `_bn` adds 2 per conv channel: conv channels 2,752 / 2,944 / 4,224 / 5,504.
# Inception BN channels (each BasicConv): GoogLeNet stem 320 + blocks 368+640+624+648+664+704+1024+
# 1024+1264 = 7,280 (aux heads +128 each); Inception v3 stem 400 + A 464+496+496 + B 640 + C 1536+
# 1728+1728+1920 + D 1280 + E 3264*2 = 17,216 (aux +128+768); Inception-ResNet-v2 stem 400 + 5b 528
# + 10*240 + 6a 1280 + 20*672 + 7a 2048 + 10*864 + 7b 1536 = 30,272. Xception: Keras reports 54,528
# non-trainable (moving-statistic) parameters.
COUNTS = {
    "lenet5": ({"num_classes": 10}, 32, 156 + 12 + 1_516 + 32 + 48_120 + 10_164, 0),  # = 60,000
    "alexnet": ({}, 224, 61_100_840, 0),  # torchvision
    # 96*(7*7*3+1) + 256*(5*5*96+1) + 384*(9*256+1) + 384*(9*384+1) + 256*(9*384+1)
    # + 4096*(6*6*256+1) + 4096*(4096+1) + 1000*(4096+1)
    "zfnet": ({}, 224, 14_208 + 614_656 + 885_120 + 1_327_488 + 884_992 + 37_752_832 + 16_781_312
              + 4_097_000, 0),  # = 62,357,608
    "vgg11": ({}, 224, 132_863_336, 0),
    "vgg11_bn": ({}, 224, 132_863_336 + 2 * 2_752, 2 * 2_752),
    "vgg13": ({}, 224, 9_404_992 + 123_642_856, 0),  # = 133,047,848
    "vgg13_bn": ({}, 224, 133_047_848 + 2 * 2_944, 2 * 2_944),
    "vgg16": ({}, 224, 138_357_544, 0),
    "vgg16_bn": ({}, 224, 138_357_544 + 2 * 4_224, 2 * 4_224),
    "vgg19": ({}, 224, 143_667_240, 0),
    "vgg19_bn": ({}, 224, 143_667_240 + 2 * 5_504, 2 * 5_504),
    # + 2 aux heads: (512|528)*128 + 256 + 2048*1024+1024 + 1024*1000+1000 = 3,188,968 + 3,191,016
    "googlenet": ({"aux_logits": True}, 224, 13_004_888, 2 * (7_280 + 256)),
    # aux: 768*128+256 + 25*128*768+1536 + 768*1000+1000 = 3,326,696
    "inception_v3": ({"aux_logits": True}, 299, 27_161_264, 2 * (17_216 + 896)),
    "inception_resnet_v2": ({}, 299, 55_843_464, 2 * 30_272),  # timm
    "xception": ({}, 299, 22_855_952, 54_528),  # Keras
    "squeezenet1_0": ({}, 224, 1_248_424, 0),
    "squeezenet1_1": ({}, 224, 1_235_496, 0),
}
# Without the auxiliary heads (torchvision's counts with aux_logits=False).
WITHOUT_AUX = {"googlenet": (6_624_904, 2 * 7_280), "inception_v3": (23_834_568, 2 * 17_216)}

def _count(tree) -> int:
  return int(sum(np.prod(x.shape) for x in jax.tree.leaves(tree)))


def _shapes(model, x, **kw):
  return jax.eval_shape(functools.partial(model.init, train=False, **kw), jax.random.key(0), x)


def test_all_names_registered():
  assert set(NAMES) <= set(classifiers.names())


@pytest.mark.parametrize("name", sorted(COUNTS))
def test_parameter_counts(name):
  kwargs, size, params, stats = COUNTS[name]
  model = classifiers.create(name, **{"num_classes": 1000, **kwargs})
  channels = 1 if name == "lenet5" else 3
  variables = _shapes(model, jax.ShapeDtypeStruct((1, size, size, channels), jnp.float32))
  assert _count(variables["params"]) == params
  assert _count(variables.get("batch_stats", {})) == stats
  if name in WITHOUT_AUX:  # drop the auxiliary heads' subtrees
    strip = lambda tree: {k: v for k, v in tree.items() if not k.lower().startswith("aux")}
    assert (_count(strip(variables["params"])),
            _count(strip(variables["batch_stats"]))) == WITHOUT_AUX[name]


@pytest.mark.parametrize("name,params", [
    # conv1 3*3*3*64+64 + conv2..5 (307,392 + 663,936 + 884,992 + 590,080) + fc6 256*4096+4096
    # + fc7 16,781,312 + fc8 4096*10+10
    ("alexnet", 1_792 + 2_446_400 + 1_052_672 + 16_781_312 + 40_970),
    # convs 14,714,688 + fc6 512*4096+4096 + fc7 16,781,312 + fc8 4096*10+10
    ("vgg16", 14_714_688 + 2_101_248 + 16_781_312 + 40_970),
])
def test_small_inputs_head_reads_a_1x1_grid(name, params):
  model = classifiers.create(name, num_classes=10, small_inputs=True)
  assert _count(_shapes(model, jnp.zeros((1, 32, 32, 3)))["params"]) == params


def _fake_variables(model, x):
  """Variables of the right shapes filled cheaply (random init of >30M weights is slow on CPU).

  Kernels: a fixed standard-normal block tiled and scaled by 1/sqrt(fan_in); BatchNorm scales and
  running variances 1; everything else 0.
  """
  block = np.random.default_rng(0).standard_normal(4099).astype(np.float32)

  def fill(path, leaf):
    name, size = path[-1].key, int(np.prod(leaf.shape))
    if name in ("kernel", "coef"):
      fan_in = int(np.prod(leaf.shape[-4:-1] if len(leaf.shape) == 5 else leaf.shape[:-1])) or 1
      values = np.resize(block, size) * np.float32(1 / np.sqrt(fan_in))
    else:
      values = np.full(size, 1.0 if name in ("scale", "var") else 0.0, np.float32)
    return jnp.asarray(values.reshape(leaf.shape), leaf.dtype)

  return jax.tree_util.tree_map_with_path(fill, _shapes(model, x))


NUM_AUX = {"googlenet": 2, "inception_v3": 1}


@pytest.mark.parametrize("name", NAMES)
def test_forward_small_inputs(name):
  shape = (2, 28, 28, 1) if NAMES.index(name) % 2 == 0 else (2, 32, 32, 3)
  x = jax.random.normal(jax.random.key(1), shape)
  kwargs = {"aux_logits": True} if name in NUM_AUX else {}
  model = classifiers.create(name, num_classes=10, small_inputs=True, **kwargs)
  variables = _fake_variables(model, x)
  mutable = ["intermediates"]
  logits, state = jax.jit(functools.partial(model.apply, train=False, mutable=mutable))(variables, x)
  assert logits.shape == (2, 10) and logits.dtype == jnp.float32
  assert np.all(np.isfinite(logits))
  assert "aux_logits" not in state.get("intermediates", {})  # auxiliary heads only train
  has_bn = "batch_stats" in variables
  mutable = ["batch_stats", "intermediates"] if has_bn else ["intermediates"]
  rngs = {"dropout": jax.random.key(2)}
  logits, state = jax.jit(functools.partial(model.apply, train=True, mutable=mutable))(variables, x, rngs=rngs)
  assert logits.shape == (2, 10) and np.all(np.isfinite(logits))
  aux = state.get("intermediates", {}).get("aux_logits", ())
  assert len(aux) == NUM_AUX.get(name, 0)
  assert all(a.shape == (2, 10) and np.all(np.isfinite(a)) for a in aux)
  if has_bn:  # the running statistics moved towards the batch statistics
    before, after = variables["batch_stats"], state["batch_stats"]
    assert jax.tree.structure(before) == jax.tree.structure(after)
    assert not np.allclose(jax.tree.leaves(before)[0], jax.tree.leaves(after)[0])


@pytest.fixture(scope="module")
def lenet_variables():
  """LeNet-5's real initial variables (the only real init here: XLA compiles RNG slowly on CPU)."""
  model = classifiers.create("lenet5", num_classes=10)
  with jax.threefry_partitionable(False):  # a third of the compile time on CPU
    return jax.jit(functools.partial(model.init, train=False))(jax.random.key(0),
                                                                 jnp.zeros((1, 32, 32, 1)))


def test_lenet_init_follows_appendix_a(lenet_variables):
  params = lenet_variables["params"]
  assert all(np.all(np.isfinite(v)) for v in jax.tree.leaves(params))
  # U(-2.4/F, 2.4/F) with F the fan-in: C1 25, C3 75 / 100 / 150, C5 400, F6 120 (S2 4, 6 draws).
  for path, fan_in in [(("C1", "kernel"), 25), (("C3", "from3", "kernel"), 75),
                       (("C3", "from4", "kernel"), 100), (("C3", "from6", "kernel"), 150),
                       (("C5", "kernel"), 400), (("F6", "kernel"), 120), (("S2", "coef"), 4)]:
    w = np.abs(np.asarray(functools.reduce(lambda t, k: t[k], path, params)))
    assert w.max() <= 2.4 / fan_in and (w.size < 100 or w.max() > 0.9 * 2.4 / fan_in)


def _conv_output_sizes(model, x):
  """Spatial size of every intermediate named `name`, from shapes only."""
  variables = _shapes(model, x)
  _, state = jax.eval_shape(lambda v: model.apply(v, x, capture_intermediates=True,
                                                  mutable=["intermediates"]), variables)
  return state["intermediates"]


def test_zfnet_map_sizes_follow_fig3():
  # Zeiler & Fergus Fig. 3: 224 -> conv1 110 -> pool 55 -> conv2 26 -> pool 13 -> ... -> pool 6.
  inter = _conv_output_sizes(classifiers.create("zfnet"), jnp.zeros((1, 224, 224, 3)))
  assert inter["conv1"]["__call__"][0].shape == (1, 110, 110, 96)
  assert inter["conv2"]["__call__"][0].shape == (1, 26, 26, 256)
  assert inter["conv5"]["__call__"][0].shape == (1, 13, 13, 256)


def test_inception_v3_grid_sizes_follow_table1():
  # Szegedy et al. 2016 Table 1: 35x35x288 before, 17x17x768 after the first reduction, 8x8x2048.
  inter = _conv_output_sizes(classifiers.create("inception_v3"), jnp.zeros((1, 299, 299, 3)))
  assert inter["Mixed_5d"]["__call__"][0].shape == (1, 35, 35, 288)
  assert inter["Mixed_6e"]["__call__"][0].shape == (1, 17, 17, 768)
  assert inter["Mixed_7c"]["__call__"][0].shape == (1, 8, 8, 2048)


def test_max_pool_matches_torch_sizes():
  # floor((n + 2p - k) / s) + 1, or ceil(...) + 1 in ceil mode, by hand.
  x = jnp.zeros((1, 110, 26, 1))
  assert blocks.max_pool(x, 3, 2).shape == (1, 54, 12, 1)
  assert blocks.max_pool(x, 3, 2, ceil_mode=True).shape == (1, 55, 13, 1)
  assert blocks.max_pool(jnp.zeros((1, 14, 14, 1)), 2, 2, ceil_mode=True).shape == (1, 7, 7, 1)
  # Ceil mode: the window starting at index 4 of a size-5 input covers [4, 6) -> max over {4}.
  x = jnp.arange(5.0).reshape(1, 5, 1, 1)
  np.testing.assert_array_equal(blocks.max_pool(x, 2, 2, ceil_mode=True)[0, :, 0, 0], [1, 3, 4])
  # Padding with -inf: a padded border never wins against negative inputs.
  y = blocks.max_pool(-jnp.ones((1, 3, 3, 1)), 3, 1, 1)
  np.testing.assert_array_equal(y, -np.ones((1, 3, 3, 1)))


def test_adaptive_avg_pool_matches_torch_windows():
  # torch cells for 5 -> 3: [0, 2), [1, 4), [3, 5); for 2 -> 4: {0}, {0}, {1}, {1}.
  x = jnp.arange(5.0).reshape(1, 5, 1, 1) * jnp.ones((1, 5, 5, 1))
  y = blocks.adaptive_avg_pool(x, 3)
  np.testing.assert_allclose(y[0, :, 0, 0], [0.5, 2.0, 3.5])
  np.testing.assert_allclose(y[0, 0, :, 0], [0.5, 0.5, 0.5])  # constant along W
  z = blocks.adaptive_avg_pool(jnp.array([1.0, 2.0]).reshape(1, 2, 1, 1) * jnp.ones((1, 2, 2, 1)),
                                4)
  np.testing.assert_allclose(z[0, :, 0, 0], [1, 1, 2, 2])


def test_local_response_norm_golden():
  x = np.random.default_rng(0).normal(size=(1, 2, 2, 7)).astype(np.float32)
  expected = np.empty_like(x)
  for i in range(7):  # b_i = a_i / (2 + 1e-4 * sum_{j=max(0,i-2)}^{min(6,i+2)} a_j^2)^0.75
    s = np.sum(x[..., max(0, i - 2):min(7, i + 3)] ** 2, axis=-1)
    expected[..., i] = x[..., i] / (2 + 1e-4 * s) ** 0.75
  np.testing.assert_allclose(alexnet.local_response_norm(jnp.asarray(x)), expected, rtol=1e-6)


def test_lenet_c3_connections_follow_table1(lenet_variables):
  params = {"params": lenet_variables["params"]["C3"]}
  assert _count(params) == 1_516  # 25 * (6*3 + 9*4 + 6) + 16
  layer = lenet.PartialConv(lenet.C3_TABLE)
  x = jax.random.normal(jax.random.key(0), (1, 14, 14, 6))
  # d(sum of output map j) / d(input map i) is non-zero exactly where Table I has an X.
  jac = jax.jit(jax.jacobian(lambda x: jnp.sum(layer.apply(params, x), axis=(0, 1, 2))))(x)
  reads = np.abs(np.asarray(jac)).sum(axis=(1, 2, 3)) > 0  # [16 outputs, 6 inputs]
  table = np.zeros((16, 6), bool)
  for j, inputs in enumerate([(0, 1, 2), (1, 2, 3), (2, 3, 4), (3, 4, 5), (0, 4, 5), (0, 1, 5),
                              (0, 1, 2, 3), (1, 2, 3, 4), (2, 3, 4, 5), (0, 3, 4, 5), (0, 1, 4, 5),
                              (0, 1, 2, 5), (0, 1, 3, 4), (1, 2, 4, 5), (0, 2, 3, 5), range(6)]):
    table[j, list(inputs)] = True
  np.testing.assert_array_equal(reads, table)


def test_lenet_rbf_output_and_padding(lenet_variables):
  centres = lenet.rbf_centres()
  assert centres.shape == (10, 84) and set(np.unique(centres)) == {-1.0, 1.0}
  assert len({c.tobytes() for c in centres}) == 10
  model = classifiers.create("lenet5", num_classes=10)
  x28 = jax.random.uniform(jax.random.key(0), (2, 28, 28, 1))
  x32 = jnp.pad(x28, ((0, 0), (2, 2), (2, 2), (0, 0)), mode="edge")
  apply = jax.jit(functools.partial(model.apply, capture_intermediates=True,
                                    mutable=["intermediates"]))
  logits, state = apply(lenet_variables, x28)
  f6 = 1.7159 * np.tanh(2 / 3 * np.asarray(state["intermediates"]["F6"]["__call__"][0]))
  expected = -((f6[:, None, :] - centres[None]) ** 2).sum(-1)  # Sec. II-B, negated
  np.testing.assert_allclose(logits, expected, rtol=1e-5)
  # A 28x28 image is the same as its 32x32 border-replicated version.
  np.testing.assert_allclose(apply(lenet_variables, x32)[0], logits, rtol=1e-6)


def test_lenet_dropout_drops_c5_and_f6_in_training_only(lenet_variables):
  model = classifiers.create("lenet5", num_classes=10, head="dense", dropout=0.5)
  x = jax.random.uniform(jax.random.key(1), (4, 28, 28, 1))
  variables = {"params": {**lenet_variables["params"], "output": {
      "kernel": jax.random.normal(jax.random.key(2), (84, 10)), "bias": jnp.zeros(10)}}}
  plain = classifiers.create("lenet5", num_classes=10, head="dense")
  apply = jax.jit(functools.partial(model.apply, capture_intermediates=True, mutable=["intermediates"]),
                  static_argnames="train")
  eval_logits, _ = apply(variables, x, train=False)
  np.testing.assert_allclose(eval_logits, plain.apply(variables, x), rtol=1e-5, atol=1e-6)  # no dropout at test time
  train_logits, state = apply(variables, x, train=True, rngs={"dropout": jax.random.key(3)})
  f6 = np.asarray(state["intermediates"]["F6"]["__call__"][0])
  dropped = np.asarray(state["intermediates"]["Dropout_0"]["__call__"][1])  # F6's output after dropout
  kept = dropped != 0
  assert 0.3 < kept.mean() < 0.7  # rate 0.5
  np.testing.assert_allclose(dropped[kept], 2 * (1.7159 * np.tanh(2 / 3 * f6))[kept], rtol=1e-5)
  assert not np.allclose(train_logits, eval_logits)


def test_bfloat16_compute_keeps_float32_params():
  model = classifiers.create("squeezenet1_1", num_classes=10, small_inputs=True,
                             dtype=jnp.bfloat16)
  x = jnp.ones((1, 32, 32, 3))
  variables = _fake_variables(model, x)
  assert all(v.dtype == jnp.float32 for v in jax.tree.leaves(_shapes(model, x)))
  logits, inter = jax.jit(functools.partial(model.apply, capture_intermediates=True,
                                            mutable=["intermediates"]))(variables, x)
  assert inter["intermediates"]["conv1"]["__call__"][0].dtype == jnp.bfloat16
  assert logits.dtype == jnp.float32 and np.all(np.isfinite(logits))


@pytest.mark.parametrize("name,kwargs", [
    ("lenet5", {"num_classes": 26}), ("lenet5", {"num_classes": 10, "head": "softmax"}),
    ("lenet5", {"num_classes": 10, "dropout": 1.0}),
    ("vgg16", {"dropout": 1.0}), ("googlenet", {"num_classes": 0}),
])
def test_bad_arguments_raise_user_error(name, kwargs):
  with pytest.raises(UserError):
    classifiers.create(name, **kwargs)


def test_bad_input_shape_raises_user_error():
  model = classifiers.create("lenet5", num_classes=10)
  with pytest.raises(UserError):
    jax.eval_shape(functools.partial(model.init, train=False), jax.random.key(0),
                   jnp.zeros((1, 64, 64, 1)))
  with pytest.raises(UserError):
    jax.eval_shape(functools.partial(model.init, train=False), jax.random.key(0),
                   jnp.zeros((32, 32, 1)))
