"""Super-resolution networks: pixel shuffle order, reference parameter counts, shapes, FSRCNN's deconvolution."""
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from gans.errors import UserError
from gans.models import summary
from gans.models.sr import common, rrdbnet, srcnn, srresnet


def conv_params(cin, cout, k, bias=True):
  return cin * cout * k * k + (cout if bias else 0)


def test_pixel_shuffle_matches_numpy_reshape_and_pytorch_order():
  rng = np.random.default_rng(0)
  b, h, w, c, r = 2, 3, 4, 2, 3
  x = rng.normal(size=(b, h, w, c * r * r)).astype(np.float32)
  out = np.asarray(common.pixel_shuffle(jnp.asarray(x), r))
  assert out.shape == (b, h * r, w * r, c)
  # Reshape definition in NCHW, as PyTorch documents it: (C*r*r, H, W) -> (C, r, r, H, W) -> (C, H, r, W, r).
  nchw = x.transpose(0, 3, 1, 2).reshape(b, c, r, r, h, w).transpose(0, 1, 4, 2, 5, 3).reshape(b, c, h * r, w * r)
  np.testing.assert_array_equal(out, nchw.transpose(0, 2, 3, 1))
  # Element by element: out[c, h*r+i, w*r+j] = in[c*r*r + i*r + j, h, w].
  for ci in range(c):
    for hi in range(h):
      for wi in range(w):
        for i in range(r):
          for j in range(r):
            assert out[1, hi * r + i, wi * r + j, ci] == x[1, hi, wi, ci * r * r + i * r + j]
  np.testing.assert_array_equal(np.asarray(common.pixel_unshuffle(jnp.asarray(out), r)), x)
  with pytest.raises(UserError):
    common.pixel_shuffle(jnp.zeros((1, 2, 2, 5)), 2)


def test_adaptive_avg_pool_is_mean_pool_on_multiples_and_identity_at_six():
  x = np.random.default_rng(1).normal(size=(2, 12, 18, 3)).astype(np.float32)
  expected = x.reshape(2, 6, 2, 6, 3, 3).mean(axis=(2, 4))
  np.testing.assert_allclose(np.asarray(common.adaptive_avg_pool(jnp.asarray(x), 6)), expected, rtol=1e-5, atol=1e-6)
  six = x[:, :6, :6]
  np.testing.assert_array_equal(np.asarray(common.adaptive_avg_pool(jnp.asarray(six), 6)), six)
  # 5 -> 3: PyTorch's bins are rows [0, 2), [1, 4), [3, 5).
  five = np.arange(25, dtype=np.float32).reshape(1, 5, 5, 1)
  rows = [five[:, 0:2], five[:, 1:4], five[:, 3:5]]
  hand = np.stack([np.stack([r[:, :, a:b].mean(axis=(1, 2)) for a, b in ((0, 2), (1, 4), (3, 5))], axis=1)
                   for r in rows], axis=1)
  np.testing.assert_allclose(np.asarray(common.adaptive_avg_pool(jnp.asarray(five), 3)), hand, rtol=1e-6)


def srresnet_count(n_blocks=16, c=64, scale=4, large=9, small=3, rgb=3):
  """Layer by layer, as sgrvinod's models.py builds it (single-slope PReLUs, BN weight + bias)."""
  head = conv_params(rgb, c, large) + 1
  block = 2 * (conv_params(c, c, small) + 2 * c) + 1
  trunk_end = conv_params(c, c, small) + 2 * c
  stages = {2: 1, 4: 2, 8: 3}[scale] * (conv_params(c, 4 * c, small) + 1)
  return head + n_blocks * block + trunk_end + stages + conv_params(c, rgb, large)


def srgan_d_count(n_channels=64, fc=1024):
  total, cin = 0, 3
  for i in range(8):
    cout = (n_channels if i == 0 else 2 * cin) if i % 2 == 0 else cin
    total += conv_params(cin, cout, 3) + (2 * cout if i > 0 else 0)
    cin = cout
  return total + (cin * 36 * fc + fc) + (fc + 1)


def rrdbnet_count(num_in_ch=3, num_out_ch=3, scale=4, nf=64, nb=23, gc=32):
  first_in = num_in_ch * {4: 1, 2: 4, 1: 16}[scale]
  rdb = sum(conv_params(nf + i * gc, gc, 3) for i in range(4)) + conv_params(nf + 4 * gc, nf, 3)
  return (conv_params(first_in, nf, 3) + nb * 3 * rdb + 4 * conv_params(nf, nf, 3)
          + conv_params(nf, num_out_ch, 3))


def test_reference_counts():
  assert srresnet_count() == 1_549_462
  assert summary.summarize("srresnet", image_size=96)["generator"] == 1_549_462
  assert srgan_d_count() == 23_565_505
  assert summary.summarize("srgan_discriminator", image_size=96)["discriminator"] == 23_565_505
  assert rrdbnet_count() == 16_697_987
  assert summary.summarize("rrdbnet", image_size=128)["generator"] == 16_697_987


def test_other_settings_against_derived_counts():
  assert summary.summarize("srresnet", image_size=64, args={"scaling_factor": 2, "n_blocks": 3})["generator"] == \
      srresnet_count(n_blocks=3, scale=2)
  assert summary.summarize("srresnet", image_size=64, args={"scaling_factor": 8, "n_channels": 16})["generator"] == \
      srresnet_count(c=16, scale=8)
  # Same parameters whatever the size (the adaptive pool): 40 px gives a 3x3 map, pooled to 6x6.
  assert summary.summarize("srgan_discriminator", image_size=40, args={"n_channels": 8, "fc_size": 1024})[
      "discriminator"] == srgan_d_count(n_channels=8)
  for args in ({"scale": 2}, {"scale": 1, "num_block": 2}, {"num_feat": 16, "num_grow_ch": 8, "num_block": 1},
               {"num_in_ch": 1, "num_out_ch": 1, "scale": 2, "num_block": 3}):
    expected = rrdbnet_count(**{{"num_feat": "nf", "num_block": "nb", "num_grow_ch": "gc"}.get(k, k): v
                                for k, v in args.items()})
    assert summary.summarize("rrdbnet", image_size=32, args=args)["generator"] == expected, args
  # The papers' weight counts (no biases): SRCNN 9-1-5 8,032 (Dong et al. 2014, sec. 4.3); FSRCNN(56, 12, 4)
  # 12,464 (Dong et al. 2016, table 1); plus the biases (and FSRCNN's channel-wise PReLU slopes).
  assert summary.summarize("srcnn", image_size=33)["generator"] == 8032 + 64 + 32 + 1
  assert summary.summarize("fsrcnn", image_size=33)["generator"] == 12464 + (56 + 12 + 4 * 12 + 56 + 1) + (
      56 + 12 + 4 * 12 + 56)
  assert summary.summarize("fsrcnn", image_size=32, args={"scale_factor": 2, "d": 32, "s": 5, "m": 1})[
      "generator"] == (conv_params(1, 32, 5) + conv_params(32, 5, 1) + conv_params(5, 5, 3) + conv_params(5, 32, 1)
                       + conv_params(32, 1, 9) + 32 + 5 + 5 + 32)
  assert summary.summarize("espcn", image_size=33, args={"num_channels": 3})["generator"] == (
      conv_params(3, 64, 5) + conv_params(64, 32, 3) + conv_params(32, 27, 3))


def out_shape(model, x, **kw):
  """The output shape, from shapes only."""
  def run(x):
    return model.apply(model.init(jax.random.key(0), x, **kw), x, **kw)
  return jax.eval_shape(run, jax.ShapeDtypeStruct(x, jnp.float32)).shape


def test_output_shapes():
  x = (2, 6, 5, 1)
  assert out_shape(srcnn.SRCNN(), x) == (2, 6, 5, 1)
  assert out_shape(srcnn.FSRCNN(scale=3, d=8, s=4, m=1), x) == (2, 18, 15, 1)
  assert out_shape(srcnn.ESPCN(scale=4), x) == (2, 24, 20, 1)
  rgb = (2, 4, 6, 3)
  assert out_shape(srresnet.SRResNet(scale=8, n_blocks=1, n_channels=8), rgb, train=False) == (2, 32, 48, 3)
  assert out_shape(srresnet.Discriminator(n_channels=4, fc_size=8), (2, 24, 24, 3), train=False) == (2,)
  for scale in (1, 2, 4):
    assert out_shape(rrdbnet.RRDBNet(scale=scale, num_feat=8, num_block=1, num_grow_ch=4), (1, 8, 8, 3)) == (
        1, 8 * scale, 8 * scale, 3)
  with pytest.raises(UserError):
    out_shape(rrdbnet.RRDBNet(scale=3, num_feat=8, num_block=1, num_grow_ch=4), (1, 8, 8, 3))
  with pytest.raises(UserError):
    out_shape(rrdbnet.RRDBNet(scale=1, num_feat=8, num_block=1, num_grow_ch=4), (1, 6, 6, 3))  # not /4
  with pytest.raises(UserError):
    out_shape(srresnet.SRResNet(scale=3, n_blocks=1, n_channels=8), rgb, train=False)


def test_srresnet_batch_norm_and_tanh_range():
  model = srresnet.SRResNet(scale=2, n_blocks=1, n_channels=8)
  x = jax.random.normal(jax.random.key(5), (2, 4, 4, 3)) * 50
  variables = model.init(jax.random.key(0), x, train=False)
  assert set(variables) == {"params", "batch_stats"}
  y, updates = model.apply(variables, x, train=True, mutable=["batch_stats"])
  assert y.shape == (2, 8, 8, 3) and float(jnp.max(jnp.abs(y))) <= 1
  changed = jax.tree.map(lambda a, b: bool(jnp.any(a != b)), updates["batch_stats"], variables["batch_stats"])
  assert all(jax.tree.leaves(changed))  # every BatchNorm's running statistics move when training


def test_fsrcnn_deconvolution_is_pytorch_conv_transpose():
  """The last layer against PyTorch's ConvTranspose2d (padding 4, output_padding r - 1) written as a loop:
  out[o] = sum_i x[i] W[o + 4 - r*i], with the flax kernel the spatially flipped PyTorch weight."""
  r, n = 3, 4
  model = srcnn.FSRCNN(scale=r, d=2, s=2, m=0)
  x = jax.random.normal(jax.random.key(1), (1, n, n, 1))
  variables = model.init(jax.random.key(2), x)
  params = variables["params"]
  y, state = model.apply(variables, x, capture_intermediates=True, mutable=["intermediates"])
  features = state["intermediates"]["PReLU_2"]["__call__"][0]  # the map the deconvolution takes (m = 0)
  kernel = np.asarray(params["ConvTranspose_0"]["kernel"])  # [9, 9, 2, 1]
  weight = kernel[::-1, ::-1]  # PyTorch orientation
  f = np.asarray(features)[0]
  expected = np.zeros((n * r, n * r)) + float(params["ConvTranspose_0"]["bias"][0])
  for oh in range(n * r):
    for ow in range(n * r):
      for ih in range(n):
        for iw in range(n):
          a, b = oh + 4 - r * ih, ow + 4 - r * iw
          if 0 <= a < 9 and 0 <= b < 9:
            expected[oh, ow] += f[ih, iw] @ weight[a, b, :, 0]
  np.testing.assert_allclose(np.asarray(y)[0, :, :, 0], expected, rtol=1e-4, atol=1e-5)



def receptive_field(model, x, **kw):
  """Height and width of the input region one central output cell depends on (its gradient's support)."""
  variables = model.init(jax.random.key(0), x, **kw)
  c = model.apply(variables, x, **kw).shape[1] // 2
  g = jax.grad(lambda x: model.apply(variables, x, **kw)[0, c, c, 0])(x)
  rows, cols = np.nonzero(np.abs(np.asarray(g[0, :, :, 0])) > 0)
  return rows.max() - rows.min() + 1, cols.max() - cols.min() + 1


def test_receptive_fields():
  x = jax.random.normal(jax.random.key(3), (1, 21, 21, 1))
  assert receptive_field(srcnn.SRCNN(), x) == (13, 13)  # 9 + 1 + 5 - 2 (Dong et al. 2014, sec. 3.1)
  assert receptive_field(srcnn.ESPCN(scale=2), x) == (9, 9)  # 5 + 3 + 3 - 2 low-resolution pixels


def test_rrdb_residual_scaling():
  """With zero kernels each dense block adds 0.2 * its last bias, and an RRDB returns x + 0.2 * (the chain of
  three blocks): 1.2 x + 0.04 (b1 + b2 + b3) (BasicSR's `out * 0.2 + x`)."""
  block = rrdbnet.RRDB(num_grow_ch=2)
  x = jax.random.normal(jax.random.key(4), (1, 3, 3, 4))
  params = jax.tree.map(jnp.zeros_like, block.init(jax.random.key(0), x))
  biases = [jnp.arange(4.0) + 10 * i for i in range(3)]
  for i, b in enumerate(biases):
    params["params"][f"ResidualDenseBlock_{i}"]["Conv_4"]["bias"] = b
  np.testing.assert_allclose(np.asarray(block.apply(params, x)), np.asarray(1.2 * x + 0.04 * sum(biases)),
                             rtol=1e-5, atol=1e-5)
