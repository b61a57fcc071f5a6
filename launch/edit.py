"""Edits images with a trained IcGAN (Perarnau et al. 2016): each image x is redrawn by the generator with a new
label y', G(E_z(x), y').

  python -m launch.edit --workdir ICGAN_DIR --input IMAGES.npz --labels 3,7,... --out FILE.npz [--png GRID.png]

--input: an .npz with `images` (or `samples`, as launch.sample writes) [N, H, W, C], uint8 in [0, 255] or float
in [-1, 1], of the generator's size. --labels: one label for all images or one per image. Writes `edited`
(float32 in [-1, 1]), `images` (the inputs in [-1, 1]) and `labels`; --png: a grid with each input beside its
edit.
"""
import os

import numpy as np
from absl import flags

from launch import common

flags.DEFINE_string("workdir", None, "A workdir of an icgan run (launch.train with configs/icgan_*.py).")
flags.DEFINE_string("input", None, "An .npz with `images` or `samples` [N, H, W, C].")
flags.DEFINE_list("labels", None, "The new labels: one for all images, or one per image.")
flags.DEFINE_string("out", None, "Output .npz file.")
flags.DEFINE_string("png", None, "Also save a grid of inputs (left) and edits (right) here (first 32 images).")
flags.mark_flags_as_required(["workdir", "input", "labels", "out"])
FLAGS = flags.FLAGS


def read_images(path: str) -> np.ndarray:
  """[N, H, W, C] float32 in [-1, 1] from an .npz's `images` or `samples` (uint8 is scaled from [0, 255])."""
  from gans.errors import UserError  # pylint: disable=g-import-not-at-top
  try:
    with np.load(path) as data:
      key = next((k for k in ("images", "samples") if k in data), None)
      if key is None:
        raise UserError(f"{path} has no `images` or `samples` array (it has {', '.join(data.files) or 'none'})")
      images = data[key]
  except (ValueError, OSError) as e:
    if isinstance(e, FileNotFoundError):
      raise
    raise UserError(f"cannot read {path} as .npz: {e}") from None
  if images.ndim == 3:
    images = images[None]
  if images.ndim != 4 or not len(images):
    raise UserError(f"{path}: images must be [N, H, W, C], got shape {list(images.shape)}")
  if images.dtype == np.uint8:
    return images.astype(np.float32) / 127.5 - 1.0
  return images.astype(np.float32)


def parse_labels(values: list[str], num: int) -> np.ndarray:
  """--labels as [num] ints: one value repeated, or one per image."""
  from gans.errors import UserError  # pylint: disable=g-import-not-at-top
  try:
    labels = np.array([int(v) for v in values], np.int64)
  except ValueError:
    raise UserError(f"--labels must be integers, got {','.join(values)}") from None
  if len(labels) == 1:
    labels = np.repeat(labels, num)
  if len(labels) != num:
    raise UserError(f"--labels needs one label or one per image ({num}), got {len(labels)}")
  return labels


def main(argv):
  del argv
  from gans import runs, visualize  # pylint: disable=g-import-not-at-top  # after absl parsed the flags
  from gans.errors import UserError  # pylint: disable=g-import-not-at-top
  images = read_images(FLAGS.input)
  labels = parse_labels(FLAGS.labels, len(images))
  config, task, state, step = runs.restore_task(FLAGS.workdir)
  if not hasattr(task, "edit"):
    raise UserError(f"{FLAGS.workdir} holds a {config.get('task', 'gan')} run; launch.edit takes an icgan run")
  edited = task.edit(state, images, labels)
  os.makedirs(os.path.dirname(os.path.abspath(FLAGS.out)), exist_ok=True)
  np.savez(FLAGS.out, edited=edited, images=images, labels=labels.astype(np.int32))
  if FLAGS.png:
    k = min(32, len(images))
    visualize.save_image_grid(np.stack([images[:k], edited[:k]], 1).reshape(2 * k, *images.shape[1:]), FLAGS.png,
                              ncols=2)
  print(f"wrote {len(edited)} edited images {edited.shape[1:]} from step {step} to {FLAGS.out}")


if __name__ == "__main__":
  common.run(main)
