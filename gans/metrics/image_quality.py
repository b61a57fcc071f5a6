"""Image quality for translation tasks: CIE Lab conversion, PSNR / SSIM over a region, colourfulness, and the
classical inpainting baseline.

- `rgb_to_lab`, `lab_to_rgb`: sRGB (D65) <-> CIE L*a*b* as scikit-image's `rgb2lab` / `lab2rgb` compute it
  (sRGB companding, the sRGB/XYZ matrices, white point (0.95047, 1, 1.08883), the cube-root law with the linear
  segment below 0.008856), written with `jnp` so a train step can use them; they take numpy arrays too.
- `colourfulness`: Hasler & Suesstrunk 2003's M = sigma_rgyb + 0.3 mu_rgyb on 0-255 RGB (their eq. in sec. 3):
  rg = R - G, yb = (R + G) / 2 - B, sigma_rgyb = sqrt(var rg + var yb), mu_rgyb = sqrt(mean(rg)^2 + mean(yb)^2).
- `region_psnr`, `region_ssim`: PSNR over the pixels of a mask; the SSIM map (scikit-image,
  Gaussian 11x11 window, sigma 1.5) averaged over the mask.
- `biharmonic_baseline`: scikit-image's `inpaint_biharmonic` (the classical baseline) scored on the same
  images and masks.
"""
import jax.numpy as jnp
import numpy as np
from skimage.metrics import structural_similarity
from skimage.restoration import inpaint_biharmonic

from gans.errors import UserError

XYZ_FROM_RGB = ((0.412453, 0.357580, 0.180423),
                (0.212671, 0.715160, 0.072169),
                (0.019334, 0.119193, 0.950227))
WHITE_D65 = (0.95047, 1.0, 1.08883)


def rgb_to_lab(rgb):
  """sRGB in [0, 1], [..., 3] -> Lab (L in [0, 100], a and b roughly in [-110, 110])."""
  rgb = jnp.asarray(rgb, jnp.float32)
  linear = jnp.where(rgb > 0.04045, ((rgb + 0.055) / 1.055) ** 2.4, rgb / 12.92)
  xyz = linear @ jnp.asarray(XYZ_FROM_RGB).T / jnp.asarray(WHITE_D65)
  f = jnp.where(xyz > 0.008856, jnp.cbrt(xyz), 7.787 * xyz + 16.0 / 116.0)
  fx, fy, fz = f[..., 0], f[..., 1], f[..., 2]
  return jnp.stack([116.0 * fy - 16.0, 500.0 * (fx - fy), 200.0 * (fy - fz)], axis=-1)


def lab_to_rgb(lab):
  """Lab [..., 3] -> sRGB in [0, 1] (out-of-gamut colours clipped; negative z clipped to 0 as scikit-image)."""
  lab = jnp.asarray(lab, jnp.float32)
  fy = (lab[..., 0] + 16.0) / 116.0
  f = jnp.stack([fy + lab[..., 1] / 500.0, fy, jnp.maximum(fy - lab[..., 2] / 200.0, 0.0)], axis=-1)
  xyz = jnp.where(f > 0.2068966, f ** 3, (f - 16.0 / 116.0) / 7.787) * jnp.asarray(WHITE_D65)
  linear = xyz @ jnp.linalg.inv(jnp.asarray(XYZ_FROM_RGB)).T
  rgb = jnp.where(linear > 0.0031308, 1.055 * jnp.maximum(linear, 0.0031308) ** (1 / 2.4) - 0.055, linear * 12.92)
  return jnp.clip(rgb, 0.0, 1.0)


def colourfulness(image: np.ndarray) -> float:
  """Hasler & Suesstrunk 2003's colourfulness of one RGB image (uint8 or 0-255 floats, [H, W, 3])."""
  rgb = np.asarray(image, np.float64)
  if rgb.ndim != 3 or rgb.shape[-1] != 3:
    raise UserError(f"colourfulness takes an RGB image [H, W, 3], got shape {rgb.shape}")
  rg = rgb[..., 0] - rgb[..., 1]
  yb = 0.5 * (rgb[..., 0] + rgb[..., 1]) - rgb[..., 2]
  return float(np.sqrt(rg.var() + yb.var()) + 0.3 * np.sqrt(rg.mean() ** 2 + yb.mean() ** 2))


def _as_mask(mask, shape) -> np.ndarray:
  mask = np.broadcast_to(np.asarray(mask, bool), shape[:2])
  if not mask.any():
    raise UserError("the region to score is empty")
  return mask


def region_psnr(a: np.ndarray, b: np.ndarray, mask=True, data_range: float = 255.0) -> float:
  """PSNR in dB between images [H, W, C] over the pixels where `mask` [H, W] is set (all of them by default)."""
  mask = _as_mask(mask, np.shape(a))
  mse = np.mean((np.asarray(a, np.float64)[mask] - np.asarray(b, np.float64)[mask]) ** 2)
  return float("inf") if mse == 0 else float(10 * np.log10(data_range ** 2 / mse))


def region_ssim(a: np.ndarray, b: np.ndarray, mask=True, data_range: float = 255.0) -> float:
  """Wang et al. 2004's SSIM map of images [H, W, C] (C channels averaged) averaged over `mask` [H, W]."""
  mask = _as_mask(mask, np.shape(a))
  _, ssim_map = structural_similarity(np.asarray(a, np.float64), np.asarray(b, np.float64), data_range=data_range,
                                      channel_axis=-1, gaussian_weights=True, sigma=1.5,
                                      use_sample_covariance=False, full=True)
  return float(ssim_map.mean(-1)[mask].mean())


def biharmonic_baseline(images: np.ndarray, masks: np.ndarray) -> dict:
  """Mean {'psnr', 'ssim'} over the masked regions of uint8 images [N, H, W, 3] filled by biharmonic
  inpainting (masks [N, H, W], True = missing); also the filled images as uint8."""
  psnrs, ssims, filled = [], [], []
  for image, mask in zip(images, masks):
    out = inpaint_biharmonic(np.array(image, np.float64) / 255.0, np.array(mask, bool), channel_axis=-1)
    out = np.round(np.clip(out, 0, 1) * 255).astype(np.uint8)
    psnrs.append(region_psnr(out, image, mask))
    ssims.append(region_ssim(out, image, mask))
    filled.append(out)
  return {"psnr": float(np.mean(psnrs)), "ssim": float(np.mean(ssims)), "images": np.stack(filled)}
