"""natural_images: the tfds builder over a photograph directory, on a tiny fake directory and the real one."""
import hashlib
import os

import numpy as np
import pytest
import tensorflow_datasets as tfds
from PIL import Image

from gans.data import natural_images, sources
from gans.errors import UserError

REAL_DIR = os.environ.get(natural_images.DIR_ENV) or ""

# (relative path, height, width, PIL mode) of the fake directory: PNG and JPEG, RGB and grayscale, varying sizes.
FAKE_FILES = [("CBSD68/1.png", 10, 12, "RGB"), ("CBSD68/2.png", 7, 9, "RGB"),
              ("CSun_Hays80/a_sun.jpg", 16, 20, "RGB"), ("CSun_Hays80/b_sun.png", 6, 5, "L"),
              ("CSet5/baby.png", 8, 8, "RGB"), ("CSet14/bridge.png", 9, 11, "L"), ("CSet14/zebra.png", 5, 13, "RGB")]


def _write_fake_dir(root) -> dict[str, np.ndarray]:
  """Writes the fake images, SHA256SUMS and a README; returns the RGB pixels each file decodes to."""
  rng = np.random.default_rng(0)
  expected, sums = {}, []
  for name, h, w, mode in FAKE_FILES:
    path = root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    pixels = rng.integers(0, 256, (h, w) if mode == "L" else (h, w, 3), dtype=np.uint8)
    Image.fromarray(pixels, mode).save(path)
    decoded = np.asarray(Image.open(path))  # a JPEG's pixels are its decoded ones, not `pixels`
    expected[name] = np.repeat(decoded[:, :, None], 3, axis=2) if mode == "L" else decoded
    sums.append(f"{hashlib.sha256(path.read_bytes()).hexdigest()}  {name}\n")
  (root / natural_images.CHECKSUMS).write_text("".join(sums))
  (root / "README.md").write_text("fake natural images for tests\n")
  return expected


@pytest.fixture
def fake_dir(tmp_path, monkeypatch):
  root = tmp_path / "natural_images"
  expected = _write_fake_dir(root)
  monkeypatch.setenv(natural_images.DIR_ENV, str(root))
  return root, expected


def test_builds_splits_of_full_size_rgb_images(fake_dir, tmp_path):
  _, expected = fake_dir
  builder = sources.get_builder("natural_images", str(tmp_path / "tfds"))
  assert {s: builder.info.splits[s].num_examples for s in ("train", "set5", "set14")} == \
      {"train": 4, "set5": 1, "set14": 2}
  assert builder.info.features["image"].shape == (None, None, 3)
  seen = {}
  for split, folders in natural_images.SPLITS.items():
    for example in tfds.as_numpy(builder.as_dataset(split=split, shuffle_files=False)):
      name = example["file_name"].decode()
      assert name.split("/")[0] in folders
      seen[name] = example["image"]
  assert set(seen) == set(expected)
  for name, pixels in expected.items():
    assert seen[name].dtype == np.uint8 and seen[name].shape == pixels.shape
    np.testing.assert_array_equal(seen[name], pixels, err_msg=name)


def test_a_corrupted_file_is_a_user_error_naming_it(fake_dir, tmp_path):
  root, _ = fake_dir
  path = root / "CSet14" / "zebra.png"
  data = bytearray(path.read_bytes())
  data[-20] ^= 0xFF
  path.write_bytes(bytes(data))
  data_dir = str(tmp_path / "tfds")
  with pytest.raises(UserError, match=r"CSet14/zebra\.png: sha256 .* expected"):
    sources.get_builder("natural_images", data_dir)
  assert not natural_images.NaturalImages(data_dir=data_dir).is_prepared()


def test_unlisted_and_missing_files_are_user_errors(fake_dir):
  root, _ = fake_dir
  (root / "CSet5" / "extra.png").write_bytes(b"not listed")
  with pytest.raises(UserError, match=r"CSet5/extra\.png is not listed"):
    natural_images.verified_files(str(root))
  (root / "CSet5" / "extra.png").unlink()
  (root / "CSet5" / "baby.png").unlink()
  with pytest.raises(UserError, match=r"CSet5/baby\.png is listed .* but missing"):
    natural_images.verified_files(str(root))


def test_missing_directory_or_variable_is_a_user_error(tmp_path, monkeypatch):
  monkeypatch.delenv(natural_images.DIR_ENV, raising=False)
  with pytest.raises(UserError, match="GANS_NATURAL_IMAGES_DIR.*majedelhelou/denoising_datasets"):
    sources.get_builder("natural_images", str(tmp_path / "tfds"))
  monkeypatch.setenv(natural_images.DIR_ENV, str(tmp_path / "nowhere"))
  with pytest.raises(UserError, match="not a directory.*majedelhelou/denoising_datasets"):
    sources.get_builder("natural_images", str(tmp_path / "tfds"))
  (tmp_path / "empty").mkdir()
  monkeypatch.setenv(natural_images.DIR_ENV, str(tmp_path / "empty"))
  with pytest.raises(UserError, match="SHA256SUMS is missing"):
    sources.get_builder("natural_images", str(tmp_path / "tfds"))


@pytest.mark.skipif(not os.path.isdir(REAL_DIR), reason=f"no natural images at {REAL_DIR}")
def test_real_directory_split_sizes():
  # Checks every file's sha256 and lists the splits (preparing the full-size images takes ~30 s of CPU).
  splits = natural_images.verified_files(REAL_DIR)
  assert {split: len(files) for split, files in splits.items()} == {"train": 148, "set5": 5, "set14": 14}
  assert natural_images.load_image(os.path.join(REAL_DIR, "CSet14/bridge.png")).shape == (512, 512, 3)
