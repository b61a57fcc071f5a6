"""`natural_images`: a tfds builder over local copies of four standard photograph sets (no network needed).

Source: the directory `$GANS_NATURAL_IMAGES_DIR`, holding the folders CBSD68, CSun_Hays80, CSet5 and CSet14 of
the public GitHub repository majedelhelou/denoising_datasets and a file SHA256SUMS in `sha256sum` format
(hash, two spaces, path relative to the directory) that lists every image in them. Before anything is
prepared, every listed image's sha256 is checked, and every image in the folders must be listed.

Splits: `train` = CBSD68 (68 images, Berkeley segmentation test images) + CSun_Hays80 (80, Sun & Hays 2012)
= 148 images; `set5` = CSet5 (5) and `set14` = CSet14 (14), the super-resolution benchmarks, for evaluation.
Examples are full-size RGB uint8 images of varying size (a grayscale file, such as CSet14's bridge.png, gets
its channel repeated three times) and `file_name`, the path relative to the directory ("CSet14/bridge.png"),
which is also the example key. Images are stored losslessly (PNG), so JPEG files keep their decoded pixels.
"""
import hashlib
import os

import numpy as np
import tensorflow_datasets as tfds
from PIL import Image

from gans.errors import UserError

DIR_ENV = "GANS_NATURAL_IMAGES_DIR"
CHECKSUMS = "SHA256SUMS"
SPLITS = {"train": ("CBSD68", "CSun_Hays80"), "set5": ("CSet5",), "set14": ("CSet14",)}
ORIGIN = "the public GitHub repository majedelhelou/denoising_datasets (its folders CBSD68, CSun_Hays80, CSet5, CSet14)"


def source_dir() -> str:
  """`$GANS_NATURAL_IMAGES_DIR`, which must be an existing directory."""
  path = os.environ.get(DIR_ENV)
  if not path:
    raise UserError(f"natural_images needs ${DIR_ENV}: a directory holding the image folders of {ORIGIN} and a "
                    f"{CHECKSUMS} file listing their sha256 sums")
  if not os.path.isdir(path):
    raise UserError(f"${DIR_ENV} is {path}, which is not a directory; it should hold the image folders of {ORIGIN} "
                    f"and a {CHECKSUMS} file")
  return path


def read_checksums(root: str) -> dict[str, str]:
  """{relative path: sha256} from `root`/SHA256SUMS."""
  path = os.path.join(root, CHECKSUMS)
  if not os.path.isfile(path):
    raise UserError(f"{path} is missing: natural_images checks every image against it (`sha256sum` format)")
  sums = {}
  with open(path, encoding="utf-8") as f:
    for number, line in enumerate(f, 1):
      if not line.strip():
        continue
      digest, _, name = line.rstrip("\n").partition(" ")
      name = name[1:] if name[:1] in (" ", "*") else name  # text or binary mode marker
      if len(digest) != 64 or not name:
        raise UserError(f"{path}, line {number}: expected '<sha256>  <path>', got {line.strip()[:100]!r}")
      sums[name.removeprefix("./")] = digest.lower()
  return sums


def _sha256(path: str) -> str:
  digest = hashlib.sha256()
  with open(path, "rb") as f:
    for block in iter(lambda: f.read(1 << 20), b""):
      digest.update(block)
  return digest.hexdigest()


def verified_files(root: str) -> dict[str, list[str]]:
  """{split: relative paths, sorted}, after checking every image of the split folders against SHA256SUMS."""
  sums = read_checksums(root)
  splits = {}
  for split, folders in SPLITS.items():
    files = []
    for folder in folders:
      folder_path = os.path.join(root, folder)
      if not os.path.isdir(folder_path):
        raise UserError(f"{folder_path} is missing; natural_images takes it from {ORIGIN}")
      present = {f"{folder}/{name}" for name in os.listdir(folder_path)
                 if not name.startswith(".") and os.path.isfile(os.path.join(folder_path, name))}
      listed = {name for name in sums if name.startswith(f"{folder}/")}
      unlisted, missing = sorted(present - listed), sorted(listed - present)
      if unlisted:
        raise UserError(f"{os.path.join(root, unlisted[0])} is not listed in {os.path.join(root, CHECKSUMS)}")
      if missing:
        raise UserError(f"{os.path.join(root, missing[0])} is listed in {CHECKSUMS} but missing; get it from {ORIGIN}")
      for name in sorted(listed):
        digest = _sha256(os.path.join(root, name))
        if digest != sums[name]:
          raise UserError(f"{os.path.join(root, name)}: sha256 {digest}, expected {sums[name]} ({CHECKSUMS}): the "
                          f"file is damaged or another version; get it again from {ORIGIN}")
      files += sorted(listed)
    splits[split] = files
  return splits


def load_image(path: str) -> np.ndarray:
  """An image file as RGB uint8 [H, W, 3] (grayscale repeated over the channels)."""
  with Image.open(path) as image:
    return np.asarray(image.convert("RGB"), dtype=np.uint8)


def read_photograph(spec: str) -> np.ndarray:
  """`<split>:<name>` (e.g. set5:butterfly: a file of `source_dir()` without its extension, checked against
  SHA256SUMS) as RGB uint8 [H, W, 3]."""
  split, _, name = spec.partition(":")
  root = source_dir()
  files = verified_files(root)
  if split not in files:
    raise UserError(f"natural_images has no split {split!r}; known: {', '.join(files)}")
  stem = lambda path: os.path.splitext(os.path.basename(path))[0]
  matches = [p for p in files[split] if stem(p) == name]
  if not matches:
    raise UserError(f"no image {name!r} in natural_images {split}; known: {', '.join(sorted(map(stem, files[split])))}")
  return load_image(os.path.join(root, matches[0]))


class NaturalImages(tfds.core.GeneratorBasedBuilder):
  """CBSD68 + CSun_Hays80 (train), CSet5 (set5), CSet14 (set14) from `$GANS_NATURAL_IMAGES_DIR`."""

  name = "natural_images"
  VERSION = tfds.core.Version("1.0.0")
  RELEASE_NOTES = {"1.0.0": "train = CBSD68 + CSun_Hays80, set5 = CSet5, set14 = CSet14; full-size RGB images."}

  def _info(self) -> tfds.core.DatasetInfo:
    return self.dataset_info_from_configs(
        description=__doc__,
        features=tfds.features.FeaturesDict({
            "image": tfds.features.Image(shape=(None, None, 3), encoding_format="png"),
            "file_name": tfds.features.Text(),
        }),
        homepage="https://github.com/majedelhelou/denoising_datasets",
    )

  def _split_generators(self, dl_manager):  # the data is local: nothing to download
    del dl_manager
    root = source_dir()
    return {split: self._generate_examples(root, names) for split, names in verified_files(root).items()}

  def _generate_examples(self, root, names):
    for name in names:
      yield name, {"image": load_image(os.path.join(root, name)), "file_name": name}
