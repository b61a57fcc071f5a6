"""Tests for gans.models.translation: U-Net, PatchGAN, ResNet generator, context encoder and their counters."""
import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from gans.errors import UserError
from gans.models import summary, translation
from gans.models.translation import context_encoder, norms, patchgan, resnet_generator, unet

# Parameter counts of the reference networks: junyanz/pytorch-CycleGAN-and-pix2pix models/networks.py
# (define_G / define_D, norm 'none' as an identity layer as upstream) instantiated with PyTorch, counted as
# sum(p.numel() for p in net.parameters()). (model, image_size, args, generator, discriminator)
REFERENCE_COUNTS = [
    ("pix2pix", 256, {}, 54_413_955, 2_768_705),  # unet_256 + basic PatchGAN on 6 channels, batch norm
    ("cyclegan", 256, {}, 11_378_179, 2_764_737),  # resnet_9blocks + basic PatchGAN on 3 channels, instance norm
    ("cyclegan", 128, {"netG": "resnet_6blocks"}, 7_837_699, 2_764_737),
    ("pix2pix", 128, {"netG": "unet_128", "netD": "n_layers", "n_layers_D": 5}, 41_828_995, 11_159_361),
    ("pix2pix", 256, {"norm": "none", "netD": "pixel"}, 54_404_099, 8_768),
    ("pix2pix", 256, {"norm": "instance", "netD": "n_layers", "n_layers_D": 1}, 54_409_603, 139_457),
    ("cyclegan", 256, {"norm": "batch", "ngf": 32}, 2_853_187, 2_765_633),
    ("pix2pix", 256, {"ndf": 32, "input_nc": 1, "output_nc": 2}, 54_409_858, 694_689),
]


@pytest.mark.parametrize("model,image_size,args,g,d", REFERENCE_COUNTS)
def test_counts_match_the_reference(model, image_size, args, g, d):
  got = summary.summarize(model, image_size=image_size, args=args)
  assert (got["generator"], got["discriminator"]) == (g, d)


def _conv_count(cin, cout, k, bias=False):
  return cin * cout * k * k + (cout if bias else 0)


def test_context_encoder_count_layer_by_layer():
  nc, nef, ngf, ndf, bottleneck = 3, 64, 64, 64, 4000
  encoder = [(nc, nef), (nef, nef), (nef, 2 * nef), (2 * nef, 4 * nef), (4 * nef, 8 * nef), (8 * nef, bottleneck)]
  decoder = [(bottleneck, 8 * ngf), (8 * ngf, 4 * ngf), (4 * ngf, 2 * ngf), (2 * ngf, ngf), (ngf, nc)]
  # BatchNorm (scale and offset) after every encoder layer but the first, every decoder layer but the last.
  g = (sum(_conv_count(a, b, 4) for a, b in encoder + decoder)
       + sum(2 * b for _, b in encoder[1:]) + sum(2 * b for _, b in decoder[:-1]))
  disc = [(nc, ndf), (ndf, 2 * ndf), (2 * ndf, 4 * ndf), (4 * ndf, 8 * ndf), (8 * ndf, 1)]
  d = sum(_conv_count(a, b, 4) for a, b in disc) + sum(2 * b for _, b in disc[1:-1])
  assert (g, d) == (71_124_544, 2_765_568)
  got = summary.summarize("context_encoder", image_size=128)
  assert (got["generator"], got["discriminator"]) == (g, d)
  small = summary.summarize("context_encoder", image_size=128, channels=1, args={"nBottleneck": 100})
  assert small["generator"] == g - _conv_count(512, 4000, 4) * 2 - 2 * 4000 + _conv_count(512, 100, 4) * 2 + 200 \
      - 2 * _conv_count(64, 3, 4) + 2 * _conv_count(64, 1, 4)
  assert small["discriminator"] == d - _conv_count(3, 64, 4) + _conv_count(1, 64, 4)


def test_context_encoder_shapes_and_centre_fill():
  g, d = context_encoder.ContextEncoder(nef=4, ngf=4, nBottleneck=8), context_encoder.ContextDiscriminator(ndf=4)
  x = jax.ShapeDtypeStruct((2, 128, 128, 3), jnp.float32)
  v = jax.eval_shape(lambda x: g.init(jax.random.key(0), x, train=False), x)
  assert jax.eval_shape(lambda v, x: g.apply(v, x, train=False), v, x).shape == (2, 64, 64, 3)
  c = jax.ShapeDtypeStruct((2, 64, 64, 3), jnp.float32)
  vd = jax.eval_shape(lambda c: d.init(jax.random.key(0), c, train=False), c)
  assert jax.eval_shape(lambda v, c: d.apply(v, c, train=False), vd, c).shape == (2,)
  with pytest.raises(UserError, match="128"):
    summary.summarize("context_encoder", image_size=64)
  images = np.random.default_rng(0).uniform(-1, 1, (2, 16, 16, 3)).astype(np.float32)
  filled = np.asarray(context_encoder.fill_centre(jnp.asarray(images), overlap=1))
  want = images.copy()
  want[:, 5:11, 5:11] = np.array([117, 104, 123]) / 255 * 2 - 1
  np.testing.assert_allclose(filled, want, atol=1e-7)
  np.testing.assert_array_equal(np.asarray(context_encoder.centre(jnp.asarray(images))), images[:, 4:12, 4:12])


def _receptive_field(d, size):
  """Extent (rows, cols) of the input pixels that one central output cell depends on (eval mode)."""
  x = jnp.asarray(np.random.default_rng(0).standard_normal((1, size, size, 1)), jnp.float32)

  @jax.jit
  def input_gradient(x):
    v = d.init(jax.random.key(0), x, train=False)
    c = d.apply(v, x, train=False).shape[1] // 2
    return jax.grad(lambda x: d.apply(v, x, train=False)[0, c, c])(x)

  support = np.abs(np.asarray(input_gradient(x)))[0, :, :, 0] > 0
  rows, cols = np.flatnonzero(support.any(axis=1)), np.flatnonzero(support.any(axis=0))
  assert rows[0] > 0 and cols[0] > 0 and rows[-1] < size - 1 and cols[-1] < size - 1  # not cut by the border
  return rows[-1] - rows[0] + 1, cols[-1] - cols[0] + 1


@pytest.mark.parametrize("netD,n_layers,size,field", [("basic", 3, 96, 70), ("n_layers", 2, 64, 34),
                                                      ("n_layers", 1, 32, 16), ("pixel", 3, 8, 1)])
def test_patchgan_receptive_field(netD, n_layers, size, field):
  d = translation.discriminator(netD, ndf=2, n_layers_D=n_layers, norm="batch")
  assert _receptive_field(d, size) == (field, field)


def test_patchgan_output_is_30x30_at_256_and_takes_the_source_as_condition():
  d = translation.discriminator("basic")
  y = jax.ShapeDtypeStruct((2, 256, 256, 3), jnp.float32)
  v = jax.eval_shape(lambda y, x: d.init(jax.random.key(0), y, x, train=False), y, y)
  assert v["params"]["Conv_0"]["kernel"].shape == (4, 4, 6, 64)
  assert jax.eval_shape(lambda v, y, x: d.apply(v, y, x, train=False), v, y, y).shape == (2, 30, 30)
  assert [patchgan.output_size(256, n) for n in (1, 2, 3, 5)] == [126, 62, 30, 6]
  assert (patchgan.output_size(24, 3), patchgan.output_size(23, 3)) == (1, 0)
  with pytest.raises(UserError, match="at least 24 pixels"):
    translation.discriminator("basic", ndf=4).init(jax.random.key(0), jnp.zeros((1, 8, 8, 3)), train=False)


def test_unet_output_shape_and_dropout_as_noise():
  g = translation.generator("unet_128", output_nc=2, ngf=2)
  x = jax.ShapeDtypeStruct((2, 128, 128, 3), jnp.float32)
  v = jax.eval_shape(lambda x: g.init(jax.random.key(0), x, train=False), x)
  assert jax.eval_shape(lambda v, x: g.apply(v, x, train=False), v, x).shape == (2, 128, 128, 2)
  # 6 downsamplings (64 px): dropout on the decoder layer at depth 4, above the innermost.
  g = unet.UnetGenerator(num_downs=6, output_nc=2, ngf=2, norm="batch", use_dropout=True)
  x = jnp.asarray(np.random.default_rng(0).uniform(-1, 1, (2, 64, 64, 3)), jnp.float32)
  v = jax.jit(lambda x: g.init(jax.random.key(0), x, train=False))(x)

  def train_run(model):
    run = jax.jit(lambda key: model.apply(v, x, train=True, rngs={"dropout": key}, mutable=["batch_stats"])[0])
    return lambda seed: np.asarray(run(jax.random.key(seed)))

  with_dropout = train_run(g)
  a, b = with_dropout(1), with_dropout(2)
  assert a.shape == (2, 64, 64, 2) and np.abs(a).max() <= 1
  assert np.abs(a - b).max() > 1e-3  # other dropout masks, other outputs
  np.testing.assert_array_equal(a, with_dropout(1))
  evaluate = jax.jit(lambda key: g.apply(v, x, train=False, rngs={"dropout": key}))
  np.testing.assert_array_equal(np.asarray(evaluate(jax.random.key(1))), np.asarray(evaluate(jax.random.key(2))))
  without_dropout = train_run(g.clone(use_dropout=False))
  np.testing.assert_array_equal(without_dropout(1), without_dropout(2))


def test_unet_rejects_sizes_it_cannot_halve_to_one_pixel():
  g = translation.generator("unet_256", ngf=2)
  with pytest.raises(UserError, match="divisible by 256"):
    jax.eval_shape(lambda x: g.init(jax.random.key(0), x, train=False),
                   jax.ShapeDtypeStruct((1, 128, 128, 3), jnp.float32))
  assert unet.encoder_widths(8, 64) == [64, 128, 256, 512, 512, 512, 512, 512]


def test_resnet_generator_keeps_the_size_and_range():
  g = translation.generator("resnet_6blocks", output_nc=3, ngf=4, norm="instance")
  x = jnp.asarray(np.random.default_rng(0).uniform(-1, 1, (2, 32, 32, 3)) * 50, jnp.float32)  # saturates tanh
  v = jax.jit(lambda x: g.init(jax.random.key(0), x, train=False))(x)
  assert set(v) == {"params"}  # instance norm: no running statistics, no affine parameters
  y = np.asarray(jax.jit(lambda v, x: g.apply(v, x, train=True))(v, x))
  assert y.shape == x.shape and np.abs(y).max() <= 1 and y.std() > 0
  assert len([k for k in v["params"] if k.startswith("ResnetBlock")]) == resnet_generator.N_BLOCKS["resnet_6blocks"]
  odd = jax.ShapeDtypeStruct((1, 36, 28, 3), jnp.float32)
  assert jax.eval_shape(lambda v, x: g.apply(v, x, train=False), v, odd).shape == (1, 36, 28, 3)
  with pytest.raises(UserError, match="divisible by 4"):
    jax.eval_shape(lambda v, x: g.apply(v, x, train=False), v, jax.ShapeDtypeStruct((1, 30, 32, 3), jnp.float32))


def test_instance_norm_against_numpy():
  x = np.random.default_rng(0).normal(3.0, 2.0, (3, 5, 7, 4)).astype(np.float32)
  y = np.asarray(norms.instance_norm(jnp.asarray(x)))
  for b in range(x.shape[0]):
    for c in range(x.shape[3]):
      plane = x[b, :, :, c].astype(np.float64)
      want = (plane - plane.mean()) / np.sqrt(plane.var() + norms.EPS)
      np.testing.assert_allclose(y[b, :, :, c], want, atol=1e-5)
      assert abs(y[b, :, :, c].mean()) < 1e-5 and abs(y[b, :, :, c].std() - 1) < 1e-3


def test_reflection_padding_against_numpy():
  x = np.random.default_rng(0).standard_normal((2, 5, 6, 3)).astype(np.float32)
  for pad in (1, 3):
    want = np.pad(x, ((0, 0), (pad, pad), (pad, pad), (0, 0)), mode="reflect")
    np.testing.assert_array_equal(np.asarray(norms.reflect_pad(jnp.asarray(x), pad)), want)
  with pytest.raises(UserError, match="reflection padding"):
    norms.reflect_pad(jnp.asarray(x), 5)


def _torch_conv_transpose(x, w, stride, pad, output_pad):
  """PyTorch's ConvTranspose2d by its definition: x [H, W, I], weight w [I, O, k, k] (PyTorch layout); input
  pixel (i, j) adds x[i, j] @ w[:, :, a, b] at (i * stride + a - pad, j * stride + b - pad)."""
  h, wd, _ = x.shape
  k = w.shape[2]
  full = np.zeros(((h - 1) * stride + k + output_pad, (wd - 1) * stride + k + output_pad, w.shape[1]))
  for i in range(h):
    for j in range(wd):
      for a in range(k):
        for b in range(k):
          full[i * stride + a, j * stride + b] += x[i, j] @ w[:, :, a, b]
  out_h, out_w = (h - 1) * stride - 2 * pad + k + output_pad, (wd - 1) * stride - 2 * pad + k + output_pad
  return full[pad:pad + out_h, pad:pad + out_w]


@pytest.mark.parametrize("k,stride,pad,output_pad", [(4, 2, 1, 0), (3, 2, 1, 1), (4, 1, 0, 0)])
def test_conv_transpose_is_pytorchs(k, stride, pad, output_pad):
  rng = np.random.default_rng(0)
  x = rng.standard_normal((3, 4, 2)).astype(np.float32)
  w = rng.standard_normal((2, 3, k, k)).astype(np.float32)
  layer = norms.conv_transpose(3, k, stride, pad, output_pad, use_bias=False)
  kernel = w[:, :, ::-1, ::-1].transpose(2, 3, 0, 1)  # the flax kernel [k, k, in, out], spatially flipped
  y = np.asarray(layer.apply({"params": {"kernel": jnp.asarray(kernel)}}, jnp.asarray(x[None])))[0]
  np.testing.assert_allclose(y, _torch_conv_transpose(x, w, stride, pad, output_pad), atol=1e-4)


def test_bias_only_with_instance_norm():
  for norm, bias in (("batch", False), ("instance", True), ("none", False)):
    d = translation.discriminator("basic", ndf=4, norm=norm)
    v = jax.eval_shape(lambda x, d=d: d.init(jax.random.key(0), x, train=False),
                       jax.ShapeDtypeStruct((1, 64, 64, 3), jnp.float32))
    p = v["params"]
    assert "bias" in p["Conv_0"] and "bias" in p["Conv_4"]  # first and last convolution: always
    assert all(("bias" in p[f"Conv_{i}"]) == bias for i in (1, 2, 3))
    assert ("batch_stats" in v) == (norm == "batch")


def test_unknown_options_are_user_errors():
  with pytest.raises(UserError, match="unet_256"):
    translation.generator("unet_64")
  with pytest.raises(UserError, match="pixel"):
    translation.discriminator("global")
  g = translation.generator("resnet_6blocks", norm="group")
  with pytest.raises(UserError, match="norm must be one of"):
    g.init(jax.random.key(0), jnp.zeros((1, 8, 8, 3)), train=False)
  with pytest.raises(UserError, match="no conditioning"):
    g.clone(norm="none").init(jax.random.key(0), jnp.zeros((1, 8, 8, 3)), jnp.zeros((1, 3)), train=False)
  with pytest.raises(UserError, match="unexpected keyword"):
    summary.summarize("pix2pix", image_size=256, args={"which_model_netG": "unet_256"})
  assert isinstance(translation.discriminator("basic"), nn.Module)
