"""Pictures a person can look at: sample grids and 2-D scatter plots, written as PNG."""
import os

import matplotlib
import numpy as np
from PIL import Image

matplotlib.use("Agg")  # files only, no display
import matplotlib.pyplot as plt  # noqa: E402  (after choosing the backend)


def image_grid(images: np.ndarray, ncols: int | None = None, pad: int = 2) -> np.ndarray:
  """[N, H, W, C] images in [-1, 1] -> one uint8 [rows*(H+pad)+pad, cols*(W+pad)+pad, C] grid."""
  images = np.asarray(images, np.float32)
  if images.ndim != 4:
    raise ValueError(f"image_grid needs [N, H, W, C] images, got shape {images.shape}")
  n, h, w, c = images.shape
  ncols = ncols or int(np.ceil(np.sqrt(n)))
  nrows = int(np.ceil(n / ncols))
  grid = np.full((nrows * (h + pad) + pad, ncols * (w + pad) + pad, c), 255, np.uint8)
  pixels = np.round((np.clip(images, -1, 1) + 1) * 127.5).astype(np.uint8)
  for i in range(n):
    r, col = divmod(i, ncols)
    grid[pad + r * (h + pad): pad + r * (h + pad) + h, pad + col * (w + pad): pad + col * (w + pad) + w] = pixels[i]
  return grid


def save_png(array: np.ndarray, path: str, scale: int = 1) -> str:
  """Saves a uint8 [H, W, C] array (C = 1 or 3) as PNG, upscaled by `scale` with nearest neighbours."""
  os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
  img = Image.fromarray(array[..., 0] if array.shape[-1] == 1 else array)
  if scale > 1:
    img = img.resize((img.width * scale, img.height * scale), Image.NEAREST)
  tmp = path + ".tmp.png"
  img.save(tmp)
  os.replace(tmp, path)
  return path


def save_image_grid(images: np.ndarray, path: str, ncols: int | None = None) -> str:
  """Saves images in [-1, 1] as a PNG grid (small images are upscaled x2 for viewing)."""
  return save_png(image_grid(images, ncols), path, scale=2 if images.shape[1] <= 32 else 1)


def save_scatter(points: np.ndarray, path: str, modes: np.ndarray | None = None, title: str = "") -> str:
  """Scatter plot of 2-D samples (and the true modes as crosses) as PNG."""
  os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
  fig, ax = plt.subplots(figsize=(4, 4), dpi=100)
  ax.scatter(points[:, 0], points[:, 1], s=2, alpha=0.5)
  if modes is not None:
    ax.scatter(modes[:, 0], modes[:, 1], marker="x", c="red", s=30)
  ax.set_aspect("equal")
  ax.set_title(title)
  fig.tight_layout()
  fig.savefig(path)
  plt.close(fig)
  return path


def save_confusion(matrix: np.ndarray, names, path: str, title: str = "") -> str:
  """Saves a confusion matrix (rows = true, columns = predicted) as a PNG heat map with counts."""
  os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
  k = len(matrix)
  size = max(4.0, 0.5 * k + 2)
  fig, ax = plt.subplots(figsize=(size, size), dpi=100)
  ax.imshow(matrix, cmap="Blues")
  if k <= 20:
    for (i, j), v in np.ndenumerate(matrix):
      ax.text(j, i, f"{int(v)}", ha="center", va="center", fontsize=7,
              color="white" if v > matrix.max() / 2 else "black")
    ax.set_xticks(range(k), names, rotation=90, fontsize=7)
    ax.set_yticks(range(k), names, fontsize=7)
  ax.set_xlabel("predicted")
  ax.set_ylabel("true")
  ax.set_title(title)
  fig.tight_layout()
  tmp = path + ".tmp.png"
  fig.savefig(tmp)
  plt.close(fig)
  os.replace(tmp, path)
  return path


def save_labelled_grid(cells, path: str, column_titles, row_titles=None, zoom: int = 1) -> str:
  """Saves rows of uint8 [H, W, 3] images as one PNG figure with a title over each column (and at the start
  of each row): side-by-side comparisons and content x style grids. A `None` cell stays blank. Every image is
  shown at `zoom` x its pixel size, nearest neighbour (so SR crops are not smoothed by the figure)."""
  rows = [list(r) for r in cells]
  ncols = len(rows[0]) if rows else 0
  if not rows or any(len(r) != ncols for r in rows) or len(column_titles) != ncols:
    raise ValueError(f"save_labelled_grid needs equal rows and one title per column, got rows of "
                     f"{[len(r) for r in rows]} and {len(column_titles)} titles")
  if row_titles is not None and len(row_titles) != len(rows):
    raise ValueError(f"{len(row_titles)} row titles for {len(rows)} rows")
  shown = [c for r in rows for c in r if c is not None]
  if not shown:
    raise ValueError("save_labelled_grid got no images")
  cell_h = max(c.shape[0] for c in shown) * zoom / 100 + 0.3  # inches at dpi 100, plus the title
  cell_w = max(c.shape[1] for c in shown) * zoom / 100 + 0.1
  os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
  fig, axes = plt.subplots(len(rows), ncols, figsize=(cell_w * ncols, cell_h * len(rows)), dpi=100, squeeze=False,
                           layout="constrained")
  for i, row in enumerate(rows):
    for j, image in enumerate(row):
      ax = axes[i, j]
      ax.axis("off")
      if image is not None:
        ax.imshow(np.asarray(image, np.uint8).squeeze(), cmap="gray", vmin=0, vmax=255, interpolation="nearest")
      if i == 0:
        ax.set_title(column_titles[j], fontsize=8)
      if row_titles is not None and j == 0:
        ax.text(-0.05, 0.5, row_titles[i], transform=ax.transAxes, rotation=90, ha="right", va="center",
                fontsize=8)
  tmp = path + ".tmp.png"
  fig.savefig(tmp)
  plt.close(fig)
  os.replace(tmp, path)
  return path
