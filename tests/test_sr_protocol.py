"""The SR evaluation protocol: MATLAB imresize against a per-pixel loop, Y conversion, PSNR / SSIM by hand,
and the bicubic baseline on CSet5 against the figures of the data's README."""
import math
import os

import dm_pix
import jax.numpy as jnp
import numpy as np
import pytest
from scipy.signal import convolve2d

from gans.errors import UserError
from gans.metrics import sr

NATURAL_IMAGES = os.environ.get("GANS_NATURAL_IMAGES_DIR", "")


def loop_imresize(image, scale):
  """MATLAB's imresize algorithm pixel by pixel: out[i, j] = sum over taps (p, q) of wr[p] wc[q] in[p', q'],
  with u = x/s + (1 - 1/s)/2 (1-based), the kernel h(x) = s*cubic(s*x) over width 4/s when s < 1,
  normalised weights, symmetric mirroring of out-of-range taps; one rounding."""
  def keys(x):
    x = abs(x)
    if x <= 1:
      return 1.5 * x ** 3 - 2.5 * x ** 2 + 1
    if x <= 2:
      return -0.5 * x ** 3 + 2.5 * x ** 2 - 4 * x + 2
    return 0.0

  def taps(x, n):
    width = 4 / scale if scale < 1 else 4
    u = x / scale + 0.5 * (1 - 1 / scale)
    left = math.floor(u - width / 2)
    pairs = []
    for k in range(left, left + math.ceil(width) + 2):
      w = scale * keys(scale * (u - k)) if scale < 1 else keys(u - k)
      j = k  # 1-based, mirrored into 1..n: 0 -> 1, -1 -> 2, n+1 -> n, ...
      while j < 1 or j > n:
        j = 1 - j if j < 1 else 2 * n + 1 - j
      pairs.append((j - 1, w))
    total = sum(w for _, w in pairs)
    return [(j, w / total) for j, w in pairs]

  h, w = image.shape
  out_h, out_w = math.ceil(h * scale - 1e-9), math.ceil(w * scale - 1e-9)
  out = np.zeros((out_h, out_w))
  for i in range(out_h):
    rows = taps(i + 1, h)
    for j in range(out_w):
      out[i, j] = sum(wr * wc * float(image[p, q]) for p, wr in rows for q, wc in taps(j + 1, w))
  return np.clip(np.round(out), 0, 255).astype(np.uint8)


@pytest.mark.parametrize("scale", [1 / 2, 1 / 3, 1 / 4, 4])
def test_imresize_matches_per_pixel_loop(scale):
  image = np.random.default_rng(0).integers(0, 256, size=(7, 9), dtype=np.uint8)
  expected = loop_imresize(image, scale)
  out = sr.imresize(image, scale)
  assert out.dtype == np.uint8 and out.shape == expected.shape
  np.testing.assert_array_equal(out, expected)
  rgb = np.stack([image, image[::-1], 255 - image], axis=-1)
  np.testing.assert_array_equal(sr.imresize(rgb, scale)[..., 2], loop_imresize(rgb[..., 2], scale))


def test_imresize_hand_values():
  assert sr.imresize(np.full((7, 9), 77, np.uint8), 1 / 3).tolist() == [[77] * 3] * 3
  # Downscaling x2 (float): the antialiased kernel is symmetric about u = 2x - 1/2, halfway between two pixels,
  # so on a linear ramp every output away from the border is the mean of its two pixels.
  ramp = np.tile(np.arange(16, dtype=np.float64) * 10, (4, 1))
  np.testing.assert_allclose(sr.imresize(ramp, 0.5)[0, 2:6], [45, 65, 85, 105])
  assert sr.imresize(np.zeros((7, 9), np.uint8), 4).shape == (28, 36)
  with pytest.raises(UserError):
    sr.imresize(np.zeros((7, 9), np.uint8), 0)


def test_rgb_to_y_hand_values():
  # MATLAB's rgb2ycbcr(uint8): black 16, white 235, red 81, green 145, blue 41; grey 128 -> 16 + 219*128/255.
  colours = np.array([[[0, 0, 0], [255, 255, 255], [255, 0, 0], [0, 255, 0], [0, 0, 255], [128, 128, 128]]],
                     np.uint8)
  assert sr.rgb_to_y(colours).tolist() == [[16, 235, 81, 145, 41, 126]]
  with pytest.raises(UserError):
    sr.rgb_to_y(colours.astype(np.float32))


def test_psnr_hand_value():
  a = np.zeros((10, 10))
  b = a.copy()
  b[3, 4] = 2  # MSE 4/100
  assert sr.psnr(a, b) == pytest.approx(10 * math.log10(255 ** 2 / 0.04), abs=1e-9)
  assert sr.psnr(a, a) == float("inf")


def test_ssim_is_wang_et_al():
  rng = np.random.default_rng(1)
  a = rng.integers(16, 236, size=(24, 30)).astype(np.float64)
  b = np.clip(a + rng.normal(0, 12, a.shape), 16, 235)
  # Wang et al. 2004's MATLAB ssim_index: 11x11 Gaussian (sigma 1.5) window, 'valid' filtering.
  g = np.exp(-(np.arange(11) - 5) ** 2 / (2 * 1.5 ** 2))
  window = np.outer(g, g) / np.outer(g, g).sum()

  def filt(x):
    return convolve2d(x, window, mode="valid")

  c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
  mu_a, mu_b = filt(a), filt(b)
  var_a, var_b, cov = filt(a * a) - mu_a ** 2, filt(b * b) - mu_b ** 2, filt(a * b) - mu_a * mu_b
  expected = np.mean((2 * mu_a * mu_b + c1) * (2 * cov + c2) / ((mu_a ** 2 + mu_b ** 2 + c1) * (var_a + var_b + c2)))
  assert sr.ssim(a, b) == pytest.approx(expected, abs=1e-6)
  pix = float(dm_pix.ssim(jnp.asarray(a[..., None], jnp.float32), jnp.asarray(b[..., None], jnp.float32),
                          max_val=255.0))
  assert sr.ssim(a, b) == pytest.approx(pix, abs=1e-4)


def test_sr_metrics_shaves_the_border():
  hr = np.random.default_rng(2).integers(0, 256, size=(22, 23, 3), dtype=np.uint8)
  sr_image = sr.modcrop(hr, 3).copy()
  sr_image[:3] = 0  # only the shaved border differs
  assert sr.sr_metrics(hr, sr_image, 3)["psnr"] == float("inf")
  sr_image[3, 5] = 255 - sr_image[3, 5]
  assert sr.sr_metrics(hr, sr_image, 3)["psnr"] < 100
  with pytest.raises(UserError):
    sr.ssim(np.zeros((10, 30)), np.zeros((10, 30)))
  with pytest.raises(UserError):
    sr.sr_metrics(hr, hr, 3)  # 22x23 is not cropped to 21x21


@pytest.mark.skipif(not os.path.isdir(os.path.join(NATURAL_IMAGES, "CSet5")), reason="no natural_images data")
def test_bicubic_baseline_on_cset5():
  images = sr.read_images(os.path.join(NATURAL_IMAGES, "CSet5"))
  assert len(images) == 5
  # PSNR: the data README's figures for these files. SSIM: the published bicubic Set5 figures (0.9299 / 0.8682
  # / 0.8104, e.g. Kim et al. 2016, table 3), from slightly different files, hence the looser tolerance.
  for scale, expected_psnr, published_ssim in ((2, 33.65, 0.9299), (3, 30.39, 0.8682), (4, 28.42, 0.8104)):
    result = sr.bicubic_baseline(images, scale)
    assert result["psnr"] == pytest.approx(expected_psnr, abs=0.02), scale
    assert result["ssim"] == pytest.approx(published_ssim, abs=0.001), scale
