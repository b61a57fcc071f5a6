"""ProGAN (gans/models/gan/progan.py): reference parameter counts, equalised learning rate, pixel norm,
minibatch stddev, fade-in between stages, shapes."""
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from ml_collections import ConfigDict

from gans.errors import UserError
from gans.models import gan, summary
from gans.models.gan import progan as pg


def reference_counts(res, channels, labels=0, fmap_base=8192, fmap_max=512, latent=None):
  """G_paper / D_paper of progressive_growing_of_gans networks.py, layer by layer (weights + biases)."""
  nf = lambda stage: min(fmap_base // 2 ** stage, fmap_max)
  latent = nf(0) if latent is None else latent
  conv = lambda i, o, k: i * o * k * k + o
  log2 = int(np.log2(res))
  g = (latent + labels) * nf(1) * 16 + nf(1) + conv(nf(1), nf(1), 3)  # 4x4 Dense (bias per map), Conv
  g += sum(conv(nf(r - 2), nf(r - 1), 3) + conv(nf(r - 1), nf(r - 1), 3) for r in range(3, log2 + 1))
  g += sum(conv(nf(r - 1), channels, 1) for r in range(2, log2 + 1))  # ToRGB_lod*
  d = sum(conv(channels, nf(r - 1), 1) for r in range(2, log2 + 1))  # FromRGB_lod*
  d += sum(conv(nf(r - 1), nf(r - 1), 3) + conv(nf(r - 1), nf(r - 2), 3) for r in range(3, log2 + 1))
  d += conv(nf(1) + 1, nf(1), 3) + nf(1) * 16 * nf(0) + nf(0) + nf(0) * (1 + labels) + 1 + labels
  return {"generator": g, "discriminator": d}


def test_reference_counts_1024():
  # Paper Table 2: 23.1M each; D's exact total is the reference's printout (23,087,249).
  assert pg.counts(1024, 3, 0) == {"generator": 23_079_115, "discriminator": 23_087_249}
  assert reference_counts(1024, 3) == {"generator": 23_079_115, "discriminator": 23_087_249}
  assert summary.summarize("progan", image_size=1024, num_classes=0)["discriminator"] == 23_087_249


@pytest.mark.parametrize("res,channels,labels,args", [
    (32, 3, 10, {}),
    (256, 1, 0, dict(fmap_base=4096, fmap_max=256)),
    (128, 3, 0, dict(latent_size=128)),
])
def test_counts_other_settings(res, channels, labels, args):
  expected = reference_counts(res, channels, labels, args.get("fmap_base", 8192), args.get("fmap_max", 512),
                              args.get("latent_size"))
  assert pg.counts(res, channels, labels, **args) == expected


def test_equalized_lr_scales_by_he_constant_at_run_time():
  layer = pg.EqualizedConv(8, 3)
  x = jax.random.normal(jax.random.key(0), (2, 6, 6, 5))
  v = layer.init(jax.random.key(1), x)
  kernel = v["params"]["kernel"]
  assert abs(float(jnp.std(kernel)) - 1.0) < 0.15  # N(0, 1) at init, not He-scaled
  d = jax.random.normal(jax.random.key(2), kernel.shape)
  delta = layer.apply({"params": {**v["params"], "kernel": kernel + d}}, x) - layer.apply(v, x)
  expected = jax.lax.conv_general_dilated(x, d, (1, 1), "SAME", dimension_numbers=("NHWC", "HWIO", "NHWC"))
  np.testing.assert_allclose(delta, expected * np.sqrt(2.0) / np.sqrt(3 * 3 * 5), rtol=1e-4, atol=1e-4)


def test_pixel_norm_unit_mean_square():
  x = jax.random.normal(jax.random.key(3), (2, 4, 4, 7)) * 5.0
  np.testing.assert_allclose(jnp.mean(pg.pixel_norm(x) ** 2, axis=-1), np.ones((2, 4, 4)), rtol=1e-5)


def test_minibatch_stddev_against_numpy():
  x = np.random.default_rng(0).normal(size=(8, 4, 4, 3)).astype(np.float32)
  got = np.asarray(pg.minibatch_stddev(jnp.asarray(x), 4))
  assert got.shape == (8, 4, 4, 4)
  for i in range(8):
    group = x[i % 2::2]  # sample i is in group i mod (B / G)
    np.testing.assert_allclose(got[i, ..., 3], np.sqrt(group.var(axis=0) + 1e-8).mean(), rtol=1e-5)
  with pytest.raises(UserError):
    pg.minibatch_stddev(jnp.asarray(x[:6]), 4)


_SIZES = dict(fmap_base=64, fmap_max=16)


def test_generator_fade_in_and_shapes():
  z = jax.random.normal(jax.random.key(0), (2, 16))
  g1, g0 = pg.Generator(32, 3, lod=1, **_SIZES), pg.Generator(32, 3, lod=0, **_SIZES)
  v = jax.jit(lambda z: g0.init(jax.random.key(1), z))(z)
  # Every stage exists whatever the lod: one variable tree while growing.
  assert jax.tree.structure(jax.eval_shape(lambda z: g1.init(jax.random.key(1), z), z)) == jax.tree.structure(v)
  apply0 = jax.jit(lambda v, z, a: g0.apply(v, z, alpha=a))
  lower = jax.jit(g1.apply)(v, z)
  assert lower.shape == (2, 16, 16, 3) and apply0(v, z, 1.0).shape == (2, 32, 32, 3)
  np.testing.assert_allclose(apply0(v, z, 0.0), jnp.repeat(jnp.repeat(lower, 2, 1), 2, 2), rtol=1e-5, atol=1e-6)
  # alpha = 1 is the new block's toRGB alone: the previous stage's toRGB no longer matters.
  moved = jax.tree.map(lambda p: p + 1.0, v["params"]["torgb_lod1"])
  v2 = {"params": {**v["params"], "torgb_lod1": moved}}
  np.testing.assert_allclose(apply0(v2, z, 1.0), apply0(v, z, 1.0), rtol=1e-5, atol=1e-6)
  assert not np.allclose(apply0(v2, z, 0.5), apply0(v, z, 0.5))
  np.testing.assert_allclose(apply0(v, z, 0.5), 0.5 * (apply0(v, z, 0.0) + apply0(v, z, 1.0)), rtol=1e-4, atol=1e-5)


def test_discriminator_fade_in_labels_and_errors():
  x = jax.random.normal(jax.random.key(0), (4, 32, 32, 3))
  d0, d1 = pg.Discriminator(32, 0, 5, **_SIZES), pg.Discriminator(32, 1, 5, **_SIZES)
  v = jax.jit(lambda x: d0.init(jax.random.key(1), x))(x)
  apply0 = jax.jit(lambda v, x, a: d0.apply(v, x, alpha=a))
  out = apply0(v, x, 1.0)
  assert out["adv"].shape == (4,) and out["class_logits"].shape == (4, 5)
  small = pg.downscale2d(x)
  np.testing.assert_allclose(np.asarray(x.reshape(4, 16, 2, 16, 2, 3).mean((2, 4))), small, rtol=1e-6)
  lower = jax.jit(d1.apply)(v, small)
  np.testing.assert_allclose(apply0(v, x, 0.0)["adv"], lower["adv"], rtol=1e-4, atol=1e-5)
  moved = {"params": {**v["params"], "fromrgb_lod1": jax.tree.map(lambda p: p + 1.0, v["params"]["fromrgb_lod1"])}}
  np.testing.assert_allclose(apply0(moved, x, 1.0)["adv"], out["adv"], rtol=1e-5, atol=1e-6)
  with pytest.raises(UserError):
    d0.apply(v, small)  # lod 0 takes 32x32 images
  with pytest.raises(UserError):
    d0.apply(v, x, jnp.ones((4, 5)))  # no label input
  with pytest.raises(UserError):
    pg.counts(32, 3, 0, fmap_base=0)
  with pytest.raises(UserError):
    pg.Generator(32, 3, lod=4).init(jax.random.key(0), jnp.ones((1, 8)))


def test_builder_from_config():
  g, d = gan.create(ConfigDict(dict(name="progan", lod=2, fmap_base=256)), (64, 64, 1), {"num_classes": 10})
  assert (g.resolution, g.lod, g.channels, g.fmap_base, d.lod, d.label_size) == (64, 2, 1, 256, 2, 10)
  with pytest.raises(UserError):
    gan.create(ConfigDict(dict(name="progan")), (64, 64, 3), {"q_dim": 2})
