"""Test set-up: 4 forced CPU devices (so sharded runs are tested), fast XLA compiles, quiet TensorFlow,
shared fixtures."""
import fcntl
import hashlib
import os
import sys
import tempfile

# LLVM's cheapest optimisation level: most slow tests are XLA:CPU compiles (a tiny DCGAN step ~16 -> ~5.5 s).
# Subprocesses the tests start take XLA_FLAGS from $GANS_TEST_XLA_FLAGS (one CPU device, the same compile
# settings), so results compared across processes are compiled alike.
os.environ["GANS_TEST_XLA_FLAGS"] = "--xla_backend_optimization_level=0"
os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "") + " --xla_force_host_platform_device_count=4 "
                           + os.environ["GANS_TEST_XLA_FLAGS"])
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
if "JAX_COMPILATION_CACHE_DIR" not in os.environ:  # one per run of pytest, shared by its xdist workers
  os.environ["JAX_COMPILATION_CACHE_DIR"] = os.path.join(
      tempfile.gettempdir(), f"gans-tests-jax-cache-{os.environ.get('PYTEST_XDIST_TESTRUNUID', os.getpid())}")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)
# The offline photographs (Set5, Set14, ...) where a shared/ folder lies beside the repository; tests that
# need them are skipped elsewhere.
_PHOTOS = os.path.join(os.path.dirname(REPO), "shared", "data", "natural_images")
if not os.environ.get("GANS_NATURAL_IMAGES_DIR") and os.path.isdir(_PHOTOS):
  os.environ["GANS_NATURAL_IMAGES_DIR"] = _PHOTOS

import pytest  # noqa: E402  (after the environment above)


@pytest.fixture(scope="session")
def data_dir(tmp_path_factory):
  """A tfds data_dir shared by the whole session, and by all pytest-xdist workers of it.

  The first worker to get here prepares the offline datasets (Fashion-MNIST ~30 s, mnist_5k ~2 s) under a
  file lock; the others wait and reuse them. Preparing one later, outside the lock, would race: two workers
  renaming their copies into the same directory.
  """
  path = os.environ.get("GANS_TEST_DATA_DIR")
  if not path:
    root = tmp_path_factory.getbasetemp()
    path = str((root.parent if os.environ.get("PYTEST_XDIST_WORKER") else root) / "tfds")
  os.makedirs(path, exist_ok=True)
  os.environ["TFDS_DATA_DIR"] = path
  from gans.data import sources  # pylint: disable=g-import-not-at-top
  from gans.errors import UserError  # pylint: disable=g-import-not-at-top
  with open(os.path.join(path, ".prepare.lock"), "w") as lock:
    fcntl.flock(lock, fcntl.LOCK_EX)
    for name in ("fashion_mnist", "mnist_5k"):
      try:
        sources.get_builder(name, path)
      except UserError:  # not installed here: the tests that need it fail with this error themselves
        pass
  return path


def prepare_photo_folder(root, tmp_path_factory) -> str:
  """Writes SHA256SUMS for the images under `root` (a natural_images-style folder a test made) and prepares it
  as tfds `natural_images` in a new data dir, which it returns; $GANS_NATURAL_IMAGES_DIR is restored after."""
  from gans.data import natural_images, sources  # pylint: disable=g-import-not-at-top  # after the environment
  files = sorted(p for p in root.rglob("*.png"))
  (root / natural_images.CHECKSUMS).write_text("".join(
      f"{hashlib.sha256(p.read_bytes()).hexdigest()}  {p.relative_to(root).as_posix()}\n" for p in files))
  data_dir = str(tmp_path_factory.mktemp("tfds"))
  before = os.environ.get(natural_images.DIR_ENV)
  os.environ[natural_images.DIR_ENV] = str(root)
  try:
    sources.get_builder("natural_images", data_dir)
  finally:
    if before is None:
      del os.environ[natural_images.DIR_ENV]
    else:
      os.environ[natural_images.DIR_ENV] = before
  return data_dir
