"""Applies a trained image-to-image network to image files:
`python -m launch.translate --workdir DIR --input A.png [B.jpg ...] --out_dir OUT`.

Works on any run whose task translates images (translation, colourisation, inpainting, super-resolution, fast
style transfer). Each input (PNG or JPEG, any size the network accepts) becomes OUT/<its name>.png; an
unreadable file or an image the network cannot take (channels, size) is one `error:` line.
"""
import os

import numpy as np
from absl import flags
from PIL import Image, UnidentifiedImageError

from gans.errors import UserError
from launch import common

flags.DEFINE_string("workdir", None, "A run written by launch.train whose task translates images.")
flags.DEFINE_multi_string("input", None, "Image files (PNG or JPEG); repeat the flag or list them after it.")
flags.DEFINE_string("out_dir", None, "Where the PNG outputs go (same file names, .png).")
flags.mark_flags_as_required(["workdir", "input", "out_dir"])
FLAGS = flags.FLAGS


def read_image(path: str) -> np.ndarray:
  """A file's pixels as uint8 [H, W, C] (C = 1 for grey, 3 for colour; alpha dropped)."""
  try:
    with Image.open(path) as image:
      image = image.convert("L" if image.mode in ("1", "L", "I;16", "I") else "RGB")
      array = np.asarray(image)
  except (UnidentifiedImageError, OSError) as e:
    raise UserError(f"cannot read image {path}: {e}") from None
  return array[..., None] if array.ndim == 2 else array


def main(argv):
  from gans import runs, visualize  # pylint: disable=g-import-not-at-top  # after absl parsed the flags
  from gans.train.task import Translator  # pylint: disable=g-import-not-at-top
  paths = list(FLAGS.input) + list(argv[1:])
  config, task, state, step = runs.restore_task(FLAGS.workdir)
  if not isinstance(task, Translator):
    raise UserError(f"{FLAGS.workdir} holds a {config.get('task', 'gan')} run, which does not translate images")
  images = [read_image(p) for p in paths]  # every file is read before anything is written
  os.makedirs(FLAGS.out_dir, exist_ok=True)
  for path, image in zip(paths, images):
    out = np.asarray(task.translate(state, image), np.uint8)
    target = os.path.join(FLAGS.out_dir, os.path.splitext(os.path.basename(path))[0] + ".png")
    visualize.save_png(out, target)
    print(f"{path} {image.shape[1]}x{image.shape[0]} -> {target} {out.shape[1]}x{out.shape[0]}", flush=True)
  print(f"translated {len(paths)} images with the step-{step} network of {FLAGS.workdir}")


if __name__ == "__main__":
  common.run(main)
