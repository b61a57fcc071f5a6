"""The published super-resolution evaluation protocol, in numpy.

As the SR literature's MATLAB scripts (SRCNN, VDSR, EDSR, ...) compute it:
- `imresize`: MATLAB's `imresize(I, scale, 'bicubic')`: the cubic convolution kernel with a = -0.5 (Keys
  1981), output pixel x (1-based) centred at u = x/scale + (1 - 1/scale)/2 in input coordinates, the kernel
  widened by 1/scale when downsampling (antialiasing), weights normalised to sum 1, symmetric padding at the
  borders; separable (rows, then columns, each a matrix product), one rounding to uint8 at the end.
- `rgb_to_y`: MATLAB's `rgb2ycbcr` on uint8 images, the luma of ITU-R BT.601 in the 16-235 range, rounded.
- `psnr`, `ssim`: on Y, after shaving `scale` pixels from every border (`sr_metrics`); SSIM is Wang et al.
  2004's (11x11 Gaussian window, sigma 1.5, K1 = 0.01, K2 = 0.03, L = 255, statistics of the window without
  the sample-covariance correction, mean over the valid part of the map) as scikit-image's
  `structural_similarity` computes it with those settings, in float64 on numpy arrays (dm-pix's `ssim` is the
  same formula in JAX; the tests check the two agree).
- `bicubic_baseline`: HR images cropped to a multiple of the scale, downscaled and upscaled with `imresize`,
  scored against the crops: on CSet5 x2 / x3 / x4, 33.65 / 30.39 / 28.42 dB.
"""
import os

import numpy as np
import PIL.Image
from skimage.metrics import structural_similarity

from gans.errors import UserError

KERNEL_WIDTH = 4.0  # the cubic kernel's support, [-2, 2]


def cubic(x: np.ndarray) -> np.ndarray:
  """Keys' cubic convolution kernel with a = -0.5 (MATLAB's `cubic`)."""
  a = np.abs(x)
  return ((1.5 * a ** 3 - 2.5 * a ** 2 + 1) * (a <= 1)
          + (-0.5 * a ** 3 + 2.5 * a ** 2 - 4 * a + 2) * ((a > 1) & (a <= 2)))


def output_size(n: int, scale: float) -> int:
  """MATLAB's ceil(scale * n), immune to 1/3 being inexact in floating point."""
  return int(np.ceil(n * scale - 1e-9))


def resize_matrix(n_in: int, n_out: int, scale: float) -> np.ndarray:
  """[n_out, n_in] weights of MATLAB's bicubic `imresize` along one axis (its `contributions`)."""
  if scale < 1:  # antialiasing: the kernel stretched by 1/scale and its height scaled to keep unit area
    def kernel(x):
      return scale * cubic(scale * x)
    width = KERNEL_WIDTH / scale
  else:
    kernel, width = cubic, KERNEL_WIDTH
  u = np.arange(1, n_out + 1) / scale + 0.5 * (1 - 1 / scale)  # output centres, 1-based input coordinates
  taps = int(np.ceil(width)) + 2
  index = np.floor(u - width / 2)[:, None] + np.arange(taps)[None, :]
  weights = kernel(u[:, None] - index)
  weights /= weights.sum(axis=1, keepdims=True)
  mirror = np.concatenate([np.arange(n_in), np.arange(n_in)[::-1]])  # symmetric padding, 0-based
  index = mirror[np.mod(index.astype(np.int64) - 1, 2 * n_in)]
  matrix = np.zeros((n_out, n_in))
  np.add.at(matrix, (np.repeat(np.arange(n_out), taps), index.ravel()), weights.ravel())
  return matrix


def imresize(image: np.ndarray, scale: float) -> np.ndarray:
  """MATLAB's `imresize(image, scale, 'bicubic')` of an [H, W] or [H, W, C] image; output
  [ceil(H*scale), ceil(W*scale), ...]. uint8 in, uint8 out (rounded once, after both axes); floats stay
  float. Rows are resized first (MATLAB's order for equal scales)."""
  if scale <= 0:
    raise UserError(f"imresize scale must be positive, got {scale}")
  if image.ndim not in (2, 3):
    raise UserError(f"imresize takes [H, W] or [H, W, C] images, got shape {image.shape}")
  h, w = image.shape[:2]
  out_h, out_w = output_size(h, scale), output_size(w, scale)
  if min(out_h, out_w) < 1:
    raise UserError(f"imresize by {scale} of a {h}x{w} image would be empty")
  x = image.astype(np.float64)
  x = np.tensordot(resize_matrix(h, out_h, scale), x, axes=(1, 0))
  x = np.moveaxis(np.tensordot(resize_matrix(w, out_w, scale), x, axes=(1, 1)), 0, 1)
  if image.dtype == np.uint8:
    return np.clip(np.round(x), 0, 255).astype(np.uint8)
  return x


def rgb_to_y(image: np.ndarray) -> np.ndarray:
  """MATLAB's `rgb2ycbcr` luma of a uint8 RGB image [..., 3]: round(16 + (65.481 R + 128.553 G + 24.966 B) / 255),
  in [16, 235], as float64."""
  if image.dtype != np.uint8 or image.shape[-1] != 3:
    raise UserError(f"rgb_to_y takes uint8 RGB images [..., 3], got {image.dtype} {image.shape}")
  rgb = image.astype(np.float64) / 255
  return np.round(16 + 65.481 * rgb[..., 0] + 128.553 * rgb[..., 1] + 24.966 * rgb[..., 2])


def modcrop(image: np.ndarray, scale: int) -> np.ndarray:
  """The top-left crop whose height and width are multiples of `scale`."""
  h, w = image.shape[0] // scale * scale, image.shape[1] // scale * scale
  return image[:h, :w]


def shave(image: np.ndarray, border: int) -> np.ndarray:
  return image[border:image.shape[0] - border, border:image.shape[1] - border] if border else image


def psnr(a: np.ndarray, b: np.ndarray, data_range: float = 255.0) -> float:
  """10 log10(data_range^2 / MSE) in dB (infinite for equal images)."""
  mse = np.mean((np.asarray(a, np.float64) - np.asarray(b, np.float64)) ** 2)
  return float("inf") if mse == 0 else float(10 * np.log10(data_range ** 2 / mse))


def ssim(a: np.ndarray, b: np.ndarray, data_range: float = 255.0) -> float:
  """Wang et al. 2004's SSIM of two single-channel images of at least 11x11 (module docstring)."""
  if np.ndim(a) != 2 or min(np.shape(a)) < 11:
    raise UserError(f"ssim takes single-channel images of at least 11x11, got shape {np.shape(a)}")
  return float(structural_similarity(np.asarray(a, np.float64), np.asarray(b, np.float64), data_range=data_range,
                                     gaussian_weights=True, sigma=1.5, use_sample_covariance=False))


def sr_metrics(hr: np.ndarray, sr: np.ndarray, scale: int) -> dict:
  """{'psnr', 'ssim'} of uint8 RGB images on Y, `scale` pixels shaved from each border. `hr` is cropped to a
  multiple of `scale` and `sr` must have that size."""
  hr = modcrop(hr, scale)
  if sr.shape != hr.shape:
    raise UserError(f"super-resolved image {sr.shape} does not match the cropped HR image {hr.shape}")
  y_hr, y_sr = shave(rgb_to_y(hr), scale), shave(rgb_to_y(sr), scale)
  return {"psnr": psnr(y_hr, y_sr), "ssim": ssim(y_hr, y_sr)}


def bicubic_baseline(images: list[np.ndarray], scale: int) -> dict:
  """Mean {'psnr', 'ssim'} of bicubic upscaling over uint8 RGB HR `images`: each cropped to a multiple of
  `scale`, downscaled by 1/scale and upscaled by `scale` with `imresize`."""
  if not images:
    raise UserError("bicubic_baseline needs at least one image")
  results = []
  for hr in images:
    hr = modcrop(hr, scale)
    results.append(sr_metrics(hr, imresize(imresize(hr, 1 / scale), scale), scale))
  return {k: float(np.mean([r[k] for r in results])) for k in ("psnr", "ssim")}


def read_images(folder: str) -> list[np.ndarray]:
  """Every PNG / JPEG / BMP in `folder`, sorted by name, as uint8 RGB arrays (read with PIL)."""
  if not os.path.isdir(folder):
    raise UserError(f"no image folder {folder!r}")
  names = sorted(n for n in os.listdir(folder) if n.lower().endswith((".png", ".jpg", ".jpeg", ".bmp")))
  if not names:
    raise UserError(f"no images in {folder!r}")
  images = []
  for name in names:
    with PIL.Image.open(os.path.join(folder, name)) as image:
      images.append(np.asarray(image.convert("RGB")))
  return images
