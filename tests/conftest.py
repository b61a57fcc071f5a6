"""Test set-up: 4 forced CPU devices (so sharded runs are tested), quiet TensorFlow, shared fixtures."""
import os
import sys

os.environ["XLA_FLAGS"] = os.environ.get("XLA_FLAGS", "") + " --xla_force_host_platform_device_count=4"
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import pytest  # pylint: disable=g-import-not-at-top,wrong-import-position


@pytest.fixture(scope="session")
def data_dir(tmp_path_factory):
  """A tfds data_dir shared by the whole session (Fashion-MNIST is prepared into it once)."""
  path = os.environ.get("GANS_TEST_DATA_DIR") or str(tmp_path_factory.mktemp("tfds"))
  os.environ["TFDS_DATA_DIR"] = path
  return path
