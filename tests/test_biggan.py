"""BigGAN / SAGAN (gans.models.gan.biggan), orthogonal regularisation and truncation (gans.regularizers),
DiffAugment (gans.diffaugment)."""
import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from gans import diffaugment, regularizers
from gans.errors import UserError
from gans.models import summary
from gans.models.gan import ARCHITECTURES, biggan

# Parameter counts of BigGAN-PyTorch's own BigGAN.Generator / BigGAN.Discriminator, instantiated in PyTorch with
# these options (sum of p.numel() over .parameters()). Rows 1-2: the BigGAN launch script
# (launch_BigGAN_bs256x8.sh) and the SAGAN one (launch_SAGAN_bs128x2_ema.sh) at 128 px ImageNet; row 3:
# launch_cifar_ema.sh (C10, attention off); the others vary resolution, widths, attention, shared / hier, D_wide.
REFERENCE_COUNTS = [
    ("biggan", 128, 1000, {}, 70_433_988, 87_982_370),
    ("sagan", 128, 1000, {}, 42_017_412, 39_448_258),
    ("sagan", 32, 10, {"G_attn": "0", "D_attn": "0"}, 4_304_387, 4_207_361),
    ("sagan", 64, 1000, {"G_attn": "32", "D_attn": "32"}, 41_577_732, 20_571_842),
    ("biggan", 64, 200, {"G_ch": 32, "D_ch": 48, "dim_z": 128, "shared_dim": 64, "G_attn": "32_64",
                         "D_attn": "16_32"}, 8_152_837, 11_162_451),
    ("biggan", 256, 1000, {"dim_z": 140}, 82_235_844, 99_225_890),
    ("sagan", 128, 1000, {"G_attn": "0", "D_attn": "0", "D_wide": False}, 41_996_931, 30_005_013),
    ("sagan", 32, 10, {"G_shared": True, "G_attn": "0", "D_attn": "16"}, 4_668_163, 4_535_045),
    ("biggan", 128, 1000, {"dim_z": 128}, 70_473_348, 87_982_370),  # hier rounds dim_z down to 126
    ("biggan", 128, 1000, {"G_attn": "32_64", "D_attn": "32_64"}, 70_618_309, 88_028_451),
]

_DEFAULTS = {"biggan": dict(G_ch=96, D_ch=96, dim_z=120, G_shared=True, shared_dim=128, hier=True, G_attn="64",
                            D_attn="64", D_wide=True),
             "sagan": dict(G_ch=64, D_ch=64, dim_z=128, G_shared=False, shared_dim=0, hier=False, G_attn="64",
                           D_attn="64", D_wide=True)}

# BigGAN-PyTorch's G_arch / D_arch width multipliers, transcribed for the layer-by-layer count below.
_G_WIDTHS = {32: [4, 4, 4, 4], 64: [16, 16, 8, 4, 2], 128: [16, 16, 8, 4, 2, 1], 256: [16, 16, 8, 8, 4, 2, 1]}
_D_TABLE = {32: ([4, 4, 4, 4], 2, [16] * 4), 64: ([1, 2, 4, 8, 16], 4, [32, 16, 8, 4, 4]),
            128: ([1, 2, 4, 8, 16, 16], 5, [64, 32, 16, 8, 4, 4]),
            256: ([1, 2, 4, 8, 8, 16, 16], 6, [128, 64, 32, 16, 8, 4, 4])}


def _conv(k, cin, cout, bias=True):
  return k * k * cin * cout + (cout if bias else 0)


def _attention(c):
  return 2 * c * (c // 8) + 2 * c * (c // 2) + 1  # theta, phi, g, o (no biases), gamma


def _formula_counts(size, classes, G_ch, D_ch, dim_z, G_shared, shared_dim, hier, G_attn, D_attn, D_wide):
  """G and D parameter counts added up layer by layer from the reference's tables (no model code)."""
  widths = [G_ch * m for m in _G_WIDTHS[size]]
  blocks = len(widths) - 1
  chunk = dim_z // (blocks + 1) if hier else 0
  shared_dim = shared_dim or dim_z
  bn_in = shared_dim + chunk
  g = (classes * shared_dim if G_shared else 0) + (dim_z // (blocks + 1) if hier else dim_z) * widths[0] * 16 \
      + widths[0] * 16
  attn_g = {int(a) for a in G_attn.split("_")}
  for i in range(blocks):
    cin, cout = widths[i], widths[i + 1]
    g += _conv(3, cin, cout) + _conv(3, cout, cout) + _conv(1, cin, cout)
    g += 2 * (bn_in if G_shared else classes) * (cin + cout)  # ccbn gain and bias maps, no bias terms
    if 8 * 2 ** i in attn_g:
      g += _attention(cout)
  g += 2 * widths[-1] + _conv(3, widths[-1], 3)
  mults, downsampled, res = _D_TABLE[size]
  attn_d = {int(a) for a in D_attn.split("_")}
  d, cin = 0, 3
  for i, m in enumerate(mults):
    cout = D_ch * m
    hidden = cout if D_wide else cin
    d += _conv(3, cin, hidden) + _conv(3, hidden, cout)
    if cin != cout or i < downsampled:
      d += _conv(1, cin, cout)
    if res[i] in attn_d:
      d += _attention(cout)
    cin = cout
  d += cin + 1 + classes * cin  # linear head, projection embedding
  return g, d


@pytest.mark.parametrize("family,size,classes,args,g_count,d_count", REFERENCE_COUNTS)
def test_reference_counts(family, size, classes, args, g_count, d_count):
  counts = summary.summarize(family, num_classes=classes, image_size=size, args=args)
  assert (counts["generator"], counts["discriminator"]) == (g_count, d_count)
  assert _formula_counts(size, classes, **{**_DEFAULTS[family], **args}) == (g_count, d_count)


def test_counter_errors():
  with pytest.raises(UserError):
    summary.summarize("biggan", num_classes=1000, image_size=48)
  with pytest.raises(UserError):
    summary.summarize("biggan", num_classes=1000, image_size=128, args={"G_attn": 3264})  # '32_64' unquoted
  with pytest.raises(UserError):
    summary.summarize("biggan", num_classes=1000, image_size=128, args={"G_shared": False})  # hier needs it
  with pytest.raises(UserError):
    summary.summarize("sagan", num_classes=1000, image_size=128, args={"G_depth": 2})  # BigGAN-deep's option


def _random_variables(module, seed, *inputs):
  """Variables of `module` with random values, from shapes only: compiling flax's init of a whole BigGAN (one
  random draw per parameter) takes longer than its forward pass. BatchNorm statistics 0 / 1, SN vectors random."""
  shapes = jax.eval_shape(lambda: module.init(jax.random.key(0), *inputs, train=False))
  rng = np.random.default_rng(seed)

  def fill(path, leaf):
    name = str(path[-1].key)
    if name in ("var", "sigma"):
      return jnp.ones(leaf.shape)
    if name == "mean":
      return jnp.zeros(leaf.shape)
    return jnp.asarray(rng.normal(0, 0.3, leaf.shape).astype(np.float32))

  return jax.tree_util.tree_map_with_path(fill, shapes)


def _softmax(row):
  e = np.exp(row - row.max())
  return e / e.sum()


def test_attention_matches_explicit_formula():
  b, h, w, c = 2, 4, 6, 16
  x = np.asarray(jax.random.normal(jax.random.key(0), (b, h, w, c)))
  module = biggan.Attention(spectral_norm=False)
  params = module.init(jax.random.key(1), x, train=False)["params"]
  params = {**params, "gamma": jnp.asarray(0.7)}
  out = np.asarray(module.apply({"params": params}, x, train=False))
  wt, wp, wg, wo = (np.asarray(params[n]["kernel"])[0, 0] for n in ("theta", "phi", "g", "o"))
  expected = np.empty_like(x)
  for n in range(b):
    phi_full, g_full = x[n] @ wp, x[n] @ wg
    keys, values = [], []
    for p in range(h // 2):
      for q in range(w // 2):
        keys.append(phi_full[2 * p:2 * p + 2, 2 * q:2 * q + 2].max(axis=(0, 1)))
        values.append(g_full[2 * p:2 * p + 2, 2 * q:2 * q + 2].max(axis=(0, 1)))
    keys, values = np.array(keys), np.array(values)
    for i in range(h):
      for j in range(w):
        query = x[n, i, j] @ wt
        weights = _softmax(np.array([query @ k for k in keys]))
        expected[n, i, j] = x[n, i, j] + 0.7 * (sum(a * v for a, v in zip(weights, values)) @ wo)
  np.testing.assert_allclose(out, expected, rtol=1e-4, atol=1e-5)


def test_attention_is_identity_at_init():
  x = jax.random.normal(jax.random.key(0), (2, 8, 8, 16))
  module = biggan.Attention()
  variables = jax.jit(lambda: module.init(jax.random.key(1), x, train=False))()
  assert float(variables["params"]["gamma"]) == 0.0
  out = jax.jit(lambda v: module.apply(v, x, train=False))(variables)
  np.testing.assert_array_equal(np.asarray(out), np.asarray(x))


def _batch_normalized(x, eps=1e-5):
  mean = x.mean(axis=(0, 1, 2))
  var = ((x - mean) ** 2).mean(axis=(0, 1, 2))
  return (x - mean) / np.sqrt(var + eps)


def test_conditional_batch_norm_linear_in_the_embedding():
  x = np.asarray(jax.random.normal(jax.random.key(0), (4, 3, 3, 5))) * 2 + 1
  y = np.asarray(jax.random.normal(jax.random.key(1), (4, 7)))
  module = biggan.ConditionalBatchNorm(spectral_norm=False)
  variables = module.init(jax.random.key(2), x, y, train=False)
  out, _ = module.apply(variables, x, y, train=True, mutable=["batch_stats"])
  wg, wb = (np.asarray(variables["params"][n]["kernel"]) for n in ("gain", "bias"))
  assert set(variables["params"]["gain"]) == {"kernel"}  # no bias term, as the reference's bias=False
  expected = _batch_normalized(x) * (1 + y @ wg)[:, None, None] + (y @ wb)[:, None, None]
  np.testing.assert_allclose(np.asarray(out), expected, rtol=1e-4, atol=1e-5)


def test_conditional_batch_norm_class_embeddings():
  x = np.asarray(jax.random.normal(jax.random.key(0), (3, 2, 2, 4)))
  labels = [2, 0, 2]
  y = np.eye(5)[labels]
  module = biggan.ConditionalBatchNorm(class_embedding=True)
  variables = module.init(jax.random.key(2), x, y, train=False)
  out, _ = module.apply(variables, x, y, train=True, mutable=["batch_stats"])
  eg, eb = (np.asarray(variables["params"][n]["embedding"]) for n in ("gain", "bias"))
  expected = _batch_normalized(x) * (1 + eg[labels])[:, None, None] + eb[labels][:, None, None]
  np.testing.assert_allclose(np.asarray(out), expected, rtol=1e-4, atol=1e-5)


def test_projection_term_is_the_inner_product():
  d = biggan.Discriminator(ch=2, attention="0", spectral_norm=False, heads={"features": True})
  x = jax.random.normal(jax.random.key(0), (3, 32, 32, 3))
  labels = np.array([1, 4, 1])
  cond = jax.nn.one_hot(labels, 5)
  variables = _random_variables(d, 1, x, cond)
  apply = jax.jit(lambda v, c: d.apply(v, x, c, train=False))
  before = apply(variables, cond)
  delta = np.asarray(jax.random.normal(jax.random.key(2), (5, 8)))
  params = dict(variables["params"])
  params["embed"] = {"embedding": params["embed"]["embedding"] + delta}
  after = apply({**variables, "params": params}, cond)
  h = np.asarray(before["features"])
  np.testing.assert_allclose(np.asarray(after["adv"] - before["adv"]), np.sum(delta[labels] * h, axis=1),
                             rtol=1e-4, atol=1e-4)
  unconditional = jax.jit(lambda v: d.apply(v, x, None, train=False))(variables)
  embedding = np.asarray(variables["params"]["embed"]["embedding"])
  np.testing.assert_allclose(np.asarray(before["adv"] - unconditional["adv"]),
                             np.sum(embedding[labels] * h, axis=1), rtol=1e-4, atol=1e-4)


def _ortho_params():
  keys = jax.random.split(jax.random.key(0), 4)
  return {"conv": {"kernel": jax.random.normal(keys[0], (2, 2, 3, 4)), "bias": jnp.ones(4)},
          "embed": {"embedding": jax.random.normal(keys[1], (6, 3))},
          "shared": {"embedding": jax.random.normal(keys[2], (5, 3))},
          "gamma": jnp.asarray(2.0)}


def test_orthogonal_regularization_value():
  params = _ortho_params()
  beta = 0.3

  def penalty(units):  # rows of `units` are the output units
    gram = units @ units.T
    return float(np.sum(gram ** 2) - np.sum(np.diag(gram) ** 2))

  conv = np.asarray(params["conv"]["kernel"]).reshape(12, 4).T
  expected = beta * (penalty(conv) + penalty(np.asarray(params["embed"]["embedding"])))
  value = regularizers.orthogonal_regularization(params, beta, exclude=("shared",))
  np.testing.assert_allclose(float(value), expected, rtol=1e-5)
  with_shared = regularizers.orthogonal_regularization(params, beta)
  np.testing.assert_allclose(float(with_shared - value), beta * penalty(np.asarray(params["shared"]["embedding"])),
                             rtol=1e-4)


def test_orthogonal_regularization_gradient():
  w = jax.random.normal(jax.random.key(3), (5, 3))  # a Dense kernel [in, out]
  beta = 0.25

  def formula(w):
    gram = w.T @ w
    return beta * jnp.sum((gram * (1 - jnp.eye(3))) ** 2)

  grad = jax.grad(lambda w: regularizers.orthogonal_regularization({"dense": {"kernel": w}}, beta))(w)
  np.testing.assert_allclose(np.asarray(grad), np.asarray(jax.grad(formula)(w)), rtol=1e-5, atol=1e-6)
  # BigGAN-PyTorch's utils.ortho adds 2 s (W W^T ⊙ (1 - I)) W with torch's W = w.T: the gradient of beta = s/2.
  wt = np.asarray(w).T
  reference = 2 * (2 * beta) * ((wt @ wt.T) * (1 - np.eye(3))) @ wt
  np.testing.assert_allclose(np.asarray(grad), reference.T, rtol=1e-5, atol=1e-6)


def _truncated_std(t):
  pdf = math.exp(-t * t / 2) / math.sqrt(2 * math.pi)
  return math.sqrt(1 - 2 * t * pdf / math.erf(t / math.sqrt(2)))


@pytest.mark.parametrize("threshold", [0.5, 2.0])
def test_truncation_resamples_within_threshold(threshold):
  key = jax.random.key(7)
  z = np.asarray(regularizers.truncated_normal_resampled(key, (40_000,), threshold))
  assert np.abs(z).max() <= threshold
  assert np.mean(np.abs(z) >= threshold * 0.999) < 0.01  # not clipped onto +-T
  assert abs(z.std() - _truncated_std(threshold)) < 0.01
  first = np.asarray(jax.random.normal(jax.random.split(key)[0], (40_000,)))
  inside = np.abs(first) <= threshold
  np.testing.assert_array_equal(z[inside], first[inside])  # kept, not redrawn
  assert np.all(z[~inside] != first[~inside])


def test_truncation_tiny_threshold_and_plain():
  z = np.asarray(regularizers.truncated_normal_resampled(jax.random.key(0), (5000,), 1e-3))
  assert np.abs(z).max() <= 1e-3 and np.unique(z).size > 4000
  plain = np.asarray(regularizers.truncated_normal_resampled(jax.random.key(0), (20_000,), None))
  assert abs(plain.std() - 1) < 0.03 and np.abs(plain).max() > 3
  np.testing.assert_array_equal(plain, regularizers.truncated_normal_resampled(jax.random.key(0), (20_000,), 0.0))


def _numpy_translate(x, sh, sw):
  out = np.zeros_like(x)
  h, w = x.shape[1:3]
  for b in range(x.shape[0]):
    for i in range(h):
      for j in range(w):
        if 0 <= i + sh[b] < h and 0 <= j + sw[b] < w:
          out[b, i, j] = x[b, i + sh[b], j + sw[b]]
  return out


def test_translate_moves_content_by_the_shift():
  x = np.zeros((2, 8, 8, 1), np.float32)
  x[:, 3, 5] = 1.0
  out = np.asarray(diffaugment.translate(jnp.asarray(x), jnp.array([2, -3]), jnp.array([-1, 1])))
  assert out[0, 1, 6, 0] == 1.0 and out.sum(axis=(1, 2, 3))[0] == 1.0  # up 2 rows, right 1 column
  assert out[1, 6, 4, 0] == 1.0 and out.sum(axis=(1, 2, 3))[1] == 1.0
  y = np.asarray(jax.random.normal(jax.random.key(0), (2, 8, 8, 3)))
  np.testing.assert_array_equal(np.asarray(diffaugment.translate(jnp.asarray(y), jnp.array([3, -8]),
                                                                 jnp.array([-2, 0]))),
                                _numpy_translate(y, [3, -8], [-2, 0]))


def test_random_translation_shift_range():
  x = jnp.asarray(np.random.default_rng(0).uniform(0.1, 1.0, (16, 32, 32, 1)).astype(np.float32))
  out = np.asarray(diffaugment.diff_augment(x, jax.random.key(3), "translation"))
  limit = 4  # int(32 / 8 + 0.5)
  shifts = []
  for b in range(16):
    found = [(sh, sw) for sh in range(-limit, limit + 1) for sw in range(-limit, limit + 1)
             if np.array_equal(out[b:b + 1], _numpy_translate(np.asarray(x[b:b + 1]), [sh], [sw]))]
    assert len(found) == 1
    shifts.append(found[0])
  assert len(set(shifts)) > 1


def test_cutout_masks_a_half_size_square():
  mask = np.asarray(diffaugment.cutout_mask((1, 8, 8, 1), jnp.array([0]), jnp.array([5]), (4, 4)))[0, :, :, 0]
  expected = np.ones((8, 8), bool)
  expected[0:2, 3:7] = False  # rows -2..1 clipped to 0..1, columns 3..6
  np.testing.assert_array_equal(mask, expected)
  x = jnp.ones((64, 16, 16, 3))
  out = np.asarray(diffaugment.diff_augment(x, jax.random.key(0), "cutout"))
  zeros = (out[..., 0] == 0).sum(axis=(1, 2))
  assert zeros.max() == 64 and zeros.min() >= 16  # an 8x8 square, at least a quarter of it inside
  assert np.all((out == 0).all(axis=-1) == (out[..., 0] == 0))


def test_color_ranges():
  x = jnp.asarray(np.random.default_rng(1).uniform(-1, 1, (256, 4, 4, 3)).astype(np.float32))
  shift = np.asarray(diffaugment.brightness(x, jax.random.key(0)) - x)
  per_image = shift[:, 0, 0, 0]
  np.testing.assert_allclose(shift, np.broadcast_to(per_image[:, None, None, None], shift.shape), atol=1e-6)
  assert per_image.min() >= -0.5 and per_image.max() < 0.5 and per_image.max() - per_image.min() > 0.9
  out = np.asarray(diffaugment.contrast(x, jax.random.key(1)))
  centred = np.asarray(x) - np.asarray(x).mean(axis=(1, 2, 3), keepdims=True)
  factor = (out - out.mean(axis=(1, 2, 3), keepdims=True)) / centred  # per image, one factor in [0.5, 1.5)
  np.testing.assert_allclose(factor, np.broadcast_to(np.median(factor, axis=(1, 2, 3), keepdims=True),
                                                     factor.shape), rtol=1e-3, atol=1e-3)
  assert factor.min() >= 0.5 - 1e-3 and factor.max() < 1.5 + 1e-3 and np.ptp(factor[:, 0, 0, 0]) > 0.9


def test_diff_augment_shapes_gradients_and_errors():
  x = jax.random.uniform(jax.random.key(0), (4, 16, 16, 3), minval=-1, maxval=1)
  out = jax.jit(diffaugment.diff_augment, static_argnums=2)(x, jax.random.key(1), "color,translation,cutout")
  assert out.shape == x.shape
  np.testing.assert_array_equal(np.asarray(diffaugment.diff_augment(x, jax.random.key(1), "")), np.asarray(x))
  grad = jax.jit(jax.grad(lambda x: jnp.sum(diffaugment.diff_augment(x, jax.random.key(1)) ** 2)))(x)
  assert np.count_nonzero(np.asarray(grad)) > x.size // 2
  with pytest.raises(UserError, match="zoom"):
    diffaugment.diff_augment(x, jax.random.key(1), "color,zoom")


def test_tiny_forward_pass_32px():
  config = {"name": "biggan", "g_ch": 4, "d_ch": 4, "z_dim": 8, "shared_dim": 6, "g_attn": "16", "d_attn": "16"}
  g, d = ARCHITECTURES.get("biggan")(config, (32, 32, 3), {})
  z = jax.random.normal(jax.random.key(0), (3, 8))
  cond = jax.nn.one_hot(jnp.array([0, 3, 9]), 10)
  gv = _random_variables(g, 1, z, cond)
  images, _ = jax.jit(lambda v: g.apply(v, z * 3, cond, train=True, mutable=["batch_stats"]))(gv)
  assert images.shape == (3, 32, 32, 3)
  assert float(jnp.max(jnp.abs(images))) <= 1.0 and float(jnp.std(images)) > 0
  dv = _random_variables(d, 2, images, cond)
  logits = jax.jit(lambda v: d.apply(v, images, cond, train=False))(dv)
  assert logits.shape == (3,) and np.all(np.isfinite(np.asarray(logits)))
  assert "gamma" in gv["params"]["attention1"] and "gamma" in dv["params"]["attention0"]
  names = {str(k.key) for path, _ in jax.tree_util.tree_flatten_with_path(gv["params"])[0] for k in path}
  assert not {"u", "sigma"} & names  # power-iteration state lives in 'batch_stats'
  state = {str(k.key) for path, _ in jax.tree_util.tree_flatten_with_path(gv["batch_stats"])[0] for k in path}
  assert "output_conv/kernel/u" in state


def test_build_errors():
  build = ARCHITECTURES.get("biggan")
  with pytest.raises(UserError):
    build({"name": "biggan"}, (48, 48, 3), {})
  with pytest.raises(UserError):
    build({"name": "biggan"}, (32, 32, 3), {"q_dim": 2})
  with pytest.raises(UserError):
    build({"name": "biggan", "z_dim": 10}, (32, 32, 3), {})  # hier: a multiple of 3 blocks + 1 at 32 px
  with pytest.raises(UserError):
    build({"name": "biggan", "g_attn": "3x"}, (32, 32, 3), {})


def test_unconditional_and_class_head():
  z = jax.ShapeDtypeStruct((2, 16), jnp.float32)
  x = jax.ShapeDtypeStruct((2, 32, 32, 3), jnp.float32)
  for hier in (True, False):
    g = biggan.Generator(image_size=32, ch=4, attention="0", hier=hier)
    variables = jax.eval_shape(lambda z: g.init(jax.random.key(0), z, None, train=False), z)
    params = variables["params"]
    assert "shared" not in params
    bn = params["block0"]["bn1"]
    # hier: BN gains and biases are linear in the z chunk (16 / 4 = 4 wide); else a plain BN with its own affine.
    assert (bn["gain"]["kernel"].shape == (4, 16)) if hier else (set(bn["bn"]) == {"scale", "bias"})
    assert jax.eval_shape(lambda v, z: g.apply(v, z, None, train=False), variables, z).shape == (2, 32, 32, 3)
  d = biggan.Discriminator(ch=4, attention="0", heads={"num_classes": 10})
  cond = jax.ShapeDtypeStruct((2, 10), jnp.float32)
  variables = jax.eval_shape(lambda x, c: d.init(jax.random.key(0), x, c, train=False), x, cond)
  out = jax.eval_shape(lambda v, x, c: d.apply(v, x, c, train=False), variables, x, cond)
  assert out["adv"].shape == (2,) and out["class_logits"].shape == (2, 10)
  params = jax.eval_shape(lambda x: d.init(jax.random.key(0), x, None, train=False), x)["params"]
  assert "embed" not in params and "embed" in variables["params"]
