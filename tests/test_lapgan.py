"""LAPGAN (gans/models/gan/lapgan.py): the Laplacian pyramid and its inverse, the coarse-to-fine sampler,
the level networks and their parameter counts."""
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from gans.errors import UserError
from gans.models import summary
from gans.models.gan import lapgan


def reference_counts(image_size, channels, num_classes=0, coarse=8, noise=100, g0=1200, d0=600, hg=64, hd=64):
  """Layer by layer: G_0 / D_0 two hidden layers; G_k convs 7x7, 7x7, 5x5; D_k convs 5x5, 5x5 / 2, linear."""
  fc = lambda i, o: i * o + o
  conv = lambda i, o, k: i * o * k * k + o
  k = num_classes
  g = fc(noise + k, g0) + fc(g0, g0) + fc(g0, coarse * coarse * channels)
  d = fc(coarse * coarse * channels + k, d0) + fc(d0, d0) + fc(d0, 1)
  n = coarse * 2
  while n <= image_size:
    plane = fc(k, n * n) if k else 0  # the label's n x n input plane
    g += plane + conv(1 + (1 if k else 0) + channels, hg, 7) + conv(hg, hg, 7) + conv(hg, channels, 5)
    side = ((n - 4) - 5) // 2 + 1
    d += plane + conv(channels + (1 if k else 0), hd, 5) + conv(hd, hd, 5) + fc(hd * side * side, 1)
    n *= 2
  return g, d


@pytest.mark.parametrize("size,channels,k,args", [(32, 3, 0, {}), (32, 3, 10, {}), (64, 1, 0, dict(coarseSize=16)),
                                                  (16, 3, 0, dict(hidden_G=32, noiseDim=50))])
def test_counts(size, channels, k, args):
  got = summary.summarize("lapgan", image_size=size, channels=channels, num_classes=k, args=args)
  expected = reference_counts(size, channels, k, args.get("coarseSize", 8), args.get("noiseDim", 100),
                              hg=args.get("hidden_G", 64))
  assert (got["generator"], got["discriminator"]) == expected
  if (size, channels, k) == (32, 3, 0):  # CIFAR-10: 8 -> 16 -> 32
    assert (got["generator_8"], got["generator_16"], got["generator_32"]) == (1_792_992, 218_179, 218_179)
    assert (got["discriminator_8"], got["discriminator_16"], got["discriminator_32"]) == (477_001, 108_353, 116_545)
  with pytest.raises(UserError):
    lapgan.counts(48, 3, 0)


@pytest.mark.parametrize("levels", [1, 2, 3, 4])
def test_reconstruct_inverts_pyramid(levels):
  x = jax.random.normal(jax.random.key(levels), (2, 32, 32, 3))
  pyramid = lapgan.laplacian_pyramid(x, levels)
  assert [p.shape[1] for p in pyramid] == [32 // 2 ** i for i in range(levels)]
  np.testing.assert_allclose(lapgan.reconstruct(pyramid), x, rtol=1e-5, atol=1e-5)
  coarse = np.asarray(x)
  for _ in range(levels - 1):
    coarse = coarse.reshape(2, coarse.shape[1] // 2, 2, coarse.shape[2] // 2, 2, 3).mean(axis=(2, 4))
  np.testing.assert_allclose(pyramid[-1], coarse, rtol=1e-5, atol=1e-6)  # the low-pass image
  flat = lapgan.laplacian_pyramid(jnp.full((1, 16, 16, 3), 0.3), 3)
  np.testing.assert_allclose(flat[0], 0.0, atol=1e-6)  # a constant image has no band-pass content


def test_level_networks_and_coarse_to_fine_sampler():
  g0, d0 = lapgan.CoarseGenerator(8, 3, hidden=16), lapgan.CoarseDiscriminator(hidden=8)
  gk, dk = lapgan.LevelGenerator(3, hidden=4), lapgan.LevelDiscriminator(hidden=4)
  v0 = g0.init(jax.random.key(0), jnp.zeros((1, 100)))
  vk = [gk.init(jax.random.key(i), jnp.zeros((1, n, n, 1)), jnp.zeros((1, n, n, 3))) for i, n in ((1, 16), (2, 32))]
  residuals = []

  def level(v):
    def apply(z, coarse, cond):
      h = gk.apply(v, z, coarse, cond)
      residuals.append(h)
      return h
    return apply

  images = lapgan.sample(lambda z, c: g0.apply(v0, z, c), [level(v) for v in vk], jax.random.key(3), 2)
  assert [im.shape for im in images] == [(2, 8, 8, 3), (2, 16, 16, 3), (2, 32, 32, 3)]
  # The sample is the reconstruction of the pyramid [h_32, h_16, I_8] the levels generated.
  np.testing.assert_allclose(images[-1], lapgan.reconstruct([residuals[1], residuals[0], images[0]]), rtol=1e-5,
                             atol=1e-5)
  # D_k sees the residual plus the coarse image; D_0 the coarse image.
  h, coarse = residuals[1], lapgan.upsample(images[1])
  vd = dk.init(jax.random.key(4), h, coarse)
  np.testing.assert_allclose(dk.apply(vd, h, coarse, train=False), dk.apply(vd, h + coarse, jnp.zeros_like(h),
                                                                            train=False), rtol=1e-5, atol=1e-6)
  assert dk.apply(vd, h, coarse, train=True, rngs={"dropout": jax.random.key(5)}).shape == (2,)
  vd0 = d0.init(jax.random.key(6), images[0])
  assert d0.apply(vd0, images[0], train=False).shape == (2,)
  labels = jax.nn.one_hot(jnp.array([1, 3]), 4)
  vc = gk.init(jax.random.key(7), jnp.zeros((2, 16, 16, 1)), images[1], labels)
  assert gk.apply(vc, jnp.zeros((2, 16, 16, 1)), images[1], labels).shape == (2, 16, 16, 3)
  with pytest.raises(UserError):
    dk.init(jax.random.key(0), jnp.zeros((1, 8, 8, 3)), jnp.zeros((1, 8, 8, 3)))
