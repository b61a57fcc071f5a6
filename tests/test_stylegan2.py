"""StyleGAN2 (gans/models/gan/stylegan2.py): reference parameter counts, modulation/demodulation, FIR
resampling, equalised learning rate, minibatch stddev, truncation, style mixing, path length penalty."""
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax import lax
from ml_collections import ConfigDict

from gans.errors import UserError
from gans.models import gan, summary
from gans.models.gan import stylegan2 as sg2

_DN = ("NHWC", "HWIO", "NHWC")


def reference_counts(res, channels, num_classes, map_layers=8, fmaps=1.0, cmax=512, arch="resnet", z=512, w=512):
  """G and D parameters layer by layer as stylegan2-ada-pytorch's training/networks.py lays them out."""
  base = int(fmaps * 32768)
  ch = lambda r: min(base // r, cmax)
  fc = lambda i, o: i * o + o
  conv = lambda i, o, k, bias=True: i * o * k * k + (o if bias else 0)
  log2 = int(np.log2(res))
  # G: mapping (embed, num_layers fc), synthesis blocks (const, conv0 up, conv1, torgb).
  g = fc(num_classes, w) if num_classes else 0
  feats = [z + (w if num_classes else 0)] + [w] * map_layers
  g += sum(fc(a, b) for a, b in zip(feats[:-1], feats[1:]))
  layer = lambda i, o: fc(w, i) + 9 * i * o + 1 + o  # affine, weight, noise_strength, bias
  for r in (2 ** k for k in range(2, log2 + 1)):
    g += (ch(r) * 16 if r == 4 else layer(ch(r // 2), ch(r))) + layer(ch(r), ch(r))
    g += fc(w, ch(r)) + ch(r) * channels + channels  # torgb
  # D: blocks from res down to 8, epilogue at 4, mapping of the label (embed + 8 layers of width cmap_dim).
  d = 0
  for r in (2 ** k for k in range(log2, 2, -1)):
    if r == res or arch == "skip":
      d += conv(channels, ch(r), 1)
    d += conv(ch(r), ch(r), 3) + conv(ch(r), ch(r // 2), 3)
    if arch == "resnet":
      d += conv(ch(r), ch(r // 2), 1, bias=False)
  c4 = ch(4)
  if arch == "skip":
    d += conv(channels, c4, 1)
  d += conv(c4 + 1, c4, 3) + fc(16 * c4, c4) + fc(c4, c4 if num_classes else 1)
  if num_classes:
    d += fc(num_classes, c4) + 8 * fc(c4, c4)
  return {"generator": g, "discriminator": d}


def test_reference_counts_1024():
  assert sg2.counts(1024, 3, 0) == {"generator": 30_370_060, "discriminator": 29_012_513}
  assert reference_counts(1024, 3, 0) == {"generator": 30_370_060, "discriminator": 29_012_513}
  assert summary.summarize("stylegan2", image_size=1024, num_classes=0)["generator"] == 30_370_060


@pytest.mark.parametrize("res,channels,k,args", [
    (256, 3, 0, dict(fmaps=0.5, mbstd=8)),  # --cfg=paper256
    (32, 3, 10, dict(map=2, mbstd=32, architecture="orig")),  # --cfg=cifar --cond=1
    (64, 1, 5, dict(fmaps=0.25, cmax=256, architecture="skip")),
])
def test_counts_other_settings(res, channels, k, args):
  expected = reference_counts(res, channels, k, args.get("map", 8), args.get("fmaps", 1.0), args.get("cmax", 512),
                              args.get("architecture", "resnet"))
  assert sg2.counts(res, channels, k, **args) == expected


def test_bad_options():
  with pytest.raises(UserError):
    sg2.counts(48, 3, 0)
  with pytest.raises(UserError):
    sg2.counts(64, 3, 0, architecture="dense")


def _per_sample_conv(x, kernel, styles, up):
  """Explicit loop: w''_b = kernel * s_b / ||kernel * s_b|| per output channel, one convolution per sample."""
  out = []
  for b in range(x.shape[0]):
    wb = kernel * styles[b][None, None, :, None]
    wb = wb / jnp.sqrt(jnp.sum(wb ** 2, axis=(0, 1, 2), keepdims=True) + 1e-8)
    out.append(sg2.conv2d_resample(x[b:b + 1], wb, up=up))
  return jnp.concatenate(out)


@pytest.mark.parametrize("up", [False, True])
def test_modulated_conv_equals_per_sample_convolution(up):
  kx, kk, ks = jax.random.split(jax.random.key(0), 3)
  x = jax.random.normal(kx, (3, 6, 6, 5))
  kernel = jax.random.normal(kk, (3, 3, 5, 4))
  styles = jax.random.normal(ks, (3, 5)) + 1.0
  got = sg2.modulated_conv2d(x, kernel, styles, demodulate=True, up=up)
  np.testing.assert_allclose(got, _per_sample_conv(x, kernel, styles, up), rtol=1e-4, atol=1e-5)
  assert got.shape == (3, 12 if up else 6, 12 if up else 6, 4)


def test_demodulated_weights_have_unit_norm_per_output_channel():
  kernel = jax.random.normal(jax.random.key(1), (3, 3, 7, 4))
  styles = jax.random.normal(jax.random.key(2), (2, 7)) * 3
  w = sg2.demodulated_weights(kernel, styles)
  np.testing.assert_allclose(jnp.sqrt(jnp.sum(w ** 2, axis=(1, 2, 3))), np.ones((2, 4)), rtol=1e-5)


def _np_upfirdn(x, up, pads, down, gain):
  """numpy upfirdn2d on one [H, W] map: zero insertion, pad/crop, 2-D filter [1,3,3,1]^T [1,3,3,1]."""
  f = np.outer([1, 3, 3, 1], [1, 3, 3, 1]) / 64.0 * gain
  h, w = x.shape
  z = np.zeros((h * up, w * up))
  z[::up, ::up] = x
  z = np.pad(z, [(max(pads[0], 0), max(pads[1], 0))] * 2)
  z = z[max(-pads[0], 0):z.shape[0] - max(-pads[1], 0), max(-pads[0], 0):z.shape[1] - max(-pads[1], 0)]
  out = np.zeros((z.shape[0] - 3, z.shape[1] - 3))
  for i in range(out.shape[0]):
    for j in range(out.shape[1]):
      out[i, j] = np.sum(z[i:i + 4, j:j + 4] * f[::-1, ::-1])
  return out[::down, ::down]


def test_fir_resampling_against_numpy_upfirdn():
  x = np.random.default_rng(0).normal(size=(1, 6, 6, 1)).astype(np.float32)
  np.testing.assert_allclose(sg2.upsample2d(jnp.asarray(x))[0, ..., 0], _np_upfirdn(x[0, ..., 0], 2, (2, 1), 1, 4),
                             rtol=1e-5, atol=1e-6)
  np.testing.assert_allclose(sg2.downsample2d(jnp.asarray(x))[0, ..., 0], _np_upfirdn(x[0, ..., 0], 1, (1, 1), 2, 1),
                             rtol=1e-5, atol=1e-6)
  # The up-conv (transposed conv, then the filter) equals the reference's generic path: upfirdn2d with
  # padding (3, 2) and gain 4, then a VALID 3x3 correlation.
  kernel = np.random.default_rng(1).normal(size=(3, 3, 1, 1)).astype(np.float32)
  up = _np_upfirdn(x[0, ..., 0], 2, (3, 2), 1, 4)[None, :, :, None].astype(np.float32)
  generic = lax.conv_general_dilated(up, kernel, (1, 1), "VALID", dimension_numbers=_DN)
  np.testing.assert_allclose(sg2.conv2d_resample(jnp.asarray(x), kernel, up=True), generic, rtol=1e-4, atol=1e-5)


def test_equalized_lr_scales_at_run_time():
  layer = sg2.EqualizedConv(6, 3)
  x = jax.random.normal(jax.random.key(3), (2, 5, 5, 4))
  v = layer.init(jax.random.key(4), x)
  kernel = v["params"]["kernel"]
  assert abs(float(jnp.std(kernel)) - 1.0) < 0.15  # stored N(0, 1), not He-scaled
  d = jax.random.normal(jax.random.key(5), kernel.shape)
  moved = {"params": {**v["params"], "kernel": kernel + d}}
  delta = layer.apply(moved, x) - layer.apply(v, x)
  expected = lax.conv_general_dilated(x, d, (1, 1), "SAME", dimension_numbers=_DN) / np.sqrt(3 * 3 * 4)
  np.testing.assert_allclose(delta, expected, rtol=1e-4, atol=1e-4)
  dense = sg2.EqualizedDense(3, lr_multiplier=0.01)
  vd = dense.init(jax.random.key(6), jnp.ones((1, 8)))
  assert abs(float(jnp.std(vd["params"]["kernel"])) - 100.0) < 40.0  # N(0, 1 / lr^2)
  moved = {"params": {**vd["params"], "kernel": vd["params"]["kernel"] + 1.0}}
  np.testing.assert_allclose(dense.apply(moved, jnp.ones((1, 8))) - dense.apply(vd, jnp.ones((1, 8))),
                             np.full((1, 3), 8 * 0.01 / np.sqrt(8)), rtol=1e-4)


def test_minibatch_stddev_against_numpy():
  x = np.random.default_rng(2).normal(size=(8, 3, 3, 6)).astype(np.float32)
  got = np.asarray(sg2.minibatch_stddev(jnp.asarray(x), 4, num_channels=2))
  assert got.shape == (8, 3, 3, 8)
  np.testing.assert_array_equal(got[..., :6], x)
  for i in range(8):
    group = x[[j for j in range(8) if j % 2 == i % 2]]  # sample i is in group i mod (B / G)
    for f in range(2):
      std = np.sqrt(group[..., 3 * f:3 * f + 3].var(axis=0) + 1e-8).mean()
      np.testing.assert_allclose(got[i, ..., 6 + f], std, rtol=1e-5)
  with pytest.raises(UserError):
    sg2.minibatch_stddev(jnp.asarray(x[:6]), 4)


def _tiny_generator(resolution=32):
  return sg2.Generator(resolution, 3, z_dim=8, w_dim=8, mapping_layers=2, channel_base=64, channel_max=8)


def test_tiny_forward_shapes_and_w_avg():
  g, d = _tiny_generator(), sg2.Discriminator(channel_base=64, channel_max=8, mbstd_group_size=2)
  z = jax.random.normal(jax.random.key(0), (4, 8))
  labels = jax.nn.one_hot(jnp.array([0, 1, 2, 1]), 3)
  vg = jax.jit(lambda z: g.init(jax.random.key(1), z, train=False))(z)
  step = jax.jit(lambda v, z, key: g.apply(v, z, train=True, mutable=["batch_stats"], rngs={"noise": key}))
  img, updates = step(vg, z, jax.random.key(2))
  assert img.shape == (4, 32, 32, 3)
  w = jax.jit(lambda v, z: g.apply(v, z, train=False, method="map"))(vg, z)[:, 0]
  np.testing.assert_allclose(updates["batch_stats"]["mapping"]["w_avg"], 0.005 * w.mean(0), rtol=1e-4, atol=1e-7)
  with pytest.raises(UserError):
    jax.eval_shape(lambda v, z: g.apply(v, z, train=False), vg, z)  # random noise without a noise rng
  vdc = jax.jit(lambda x, c: d.init(jax.random.key(3), x, c))(img, labels)
  assert jax.jit(d.apply)(vdc, img, labels).shape == (4,)
  vd = jax.eval_shape(lambda x: d.init(jax.random.key(3), x), img)
  assert jax.eval_shape(d.apply, vd, img).shape == (4,)
  vgc = jax.eval_shape(lambda z, c: g.init(jax.random.key(1), z, c, train=False), z, labels)
  assert jax.eval_shape(lambda v, z, c: g.apply(v, z, c, train=False, noise_mode="none"), vgc, z, labels).shape == (
      4, 32, 32, 3)


def test_truncation_and_style_mixing():
  g = _tiny_generator(16)
  z1, z2 = jax.random.normal(jax.random.key(0), (2, 3, 8))
  v = jax.jit(lambda z: g.init(jax.random.key(1), z, train=False))(z1)
  w_avg = jax.random.normal(jax.random.key(2), (8,))
  v = {"params": v["params"], "batch_stats": {"mapping": {"w_avg": w_avg}}}
  mapping = jax.jit(lambda v, z, **kw: g.apply(v, z, train=False, method="map", **kw),
                    static_argnames=("truncation_psi", "truncation_cutoff"))
  ws = mapping(v, z1)
  assert ws.shape == (3, sg2.num_ws(16), 8) == (3, 6, 8)
  np.testing.assert_allclose(mapping(v, z1, truncation_psi=0.0),
                             jnp.broadcast_to(w_avg, ws.shape), rtol=1e-6)
  np.testing.assert_allclose(mapping(v, z1, truncation_psi=1.0), ws)
  half = mapping(v, z1, truncation_psi=0.5, truncation_cutoff=2)
  np.testing.assert_allclose(half[:, :2], w_avg + 0.5 * (ws[:, :2] - w_avg), rtol=1e-5, atol=1e-6)
  np.testing.assert_allclose(half[:, 2:], ws[:, 2:])
  ws2 = mapping(v, z2)
  mixed = mapping(v, z1, mixing_z=z2, crossover=jnp.int32(4))
  np.testing.assert_allclose(mixed[:, :4], ws[:, :4])
  np.testing.assert_allclose(mixed[:, 4:], ws2[:, 4:])


def test_path_length_penalty_against_jacobian():
  g = _tiny_generator(8)
  z = jax.random.normal(jax.random.key(0), (2, 8))
  v = jax.jit(lambda z: g.init(jax.random.key(1), z, train=False))(z)
  ws = g.apply(v, z, train=False, method="map")
  synth = lambda ws: g.apply(v, ws, noise_mode="none", method="synthesize")
  key, pl_mean = jax.random.key(5), jnp.float32(0.7)
  penalty, new_mean = jax.jit(lambda ws: sg2.path_length_penalty(synth, ws, key, pl_mean))(ws)
  # Definition: the full Jacobian J contracted with y, y ~ N(0, I) / sqrt(HW) drawn as the function draws it.
  y = jax.random.normal(key, (2, 8, 8, 3)) / np.sqrt(8 * 8)
  jac = jax.jit(jax.jacrev(synth))(ws)  # [B, H, W, C, B, L, D], one row per output pixel
  jty = jnp.einsum("bhwc,bhwcbld->bld", y, jac)
  lengths = jnp.sqrt(jnp.mean(jnp.sum(jty ** 2, axis=2), axis=1))
  a = pl_mean + 0.01 * (lengths.mean() - pl_mean)
  np.testing.assert_allclose(new_mean, a, rtol=1e-5)
  np.testing.assert_allclose(penalty, jnp.mean((lengths - a) ** 2), rtol=1e-4)
  # The penalty is differentiable in G's parameters (double backprop).
  grad = jax.jit(jax.grad(lambda p: sg2.path_length_penalty(
      lambda w: g.apply({**v, "params": p}, w, noise_mode="none", method="synthesize"), ws, key, pl_mean)[0]))(
          v["params"])
  assert all(bool(jnp.all(jnp.isfinite(leaf))) for leaf in jax.tree.leaves(grad))


def test_builder_from_config():
  g, d = gan.create(ConfigDict(dict(name="stylegan2", fmaps=0.5, cmax=64, map=2, mbstd=2)), (32, 32, 1))
  assert (g.channels, g.mapping_layers, g.channel_base, g.channel_max, d.mbstd_group_size) == (1, 2, 16384, 64, 2)
  with pytest.raises(UserError):
    gan.create(ConfigDict(dict(name="stylegan2")), (32, 32, 3), {"num_classes": 10})
  with pytest.raises(UserError):
    gan.create(ConfigDict(dict(name="stylegan2")), (24, 24, 3))
