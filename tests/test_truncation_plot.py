"""launch.truncation_plot's pieces: the sampler it evaluates through, its table and its plot (fake numbers)."""
import numpy as np
from PIL import Image

from gans.metrics import truncation as truncation_plot

ROWS = [{"truncation": None, "fcd": 12.5, "precision": 0.6, "recall": 0.55},
        {"truncation": 1.0, "fcd": 10.25, "precision": 0.7, "recall": 0.4},
        {"truncation": 0.5, "fcd": 20.0, "precision": 0.8, "recall": 0.2}]


class _Task:
  conditional, num_labels, class_labels = True, 10, 10

  def __init__(self):
    self.calls = []

  def sample(self, state, num, seed, batch_size=500, labels=None, truncation=None):
    self.calls.append((state, num, seed, batch_size, labels, truncation))
    return np.zeros((num, 2), np.float32)


def test_truncated_sampler_passes_the_threshold_and_everything_else():
  task = _Task()
  sampler = truncation_plot.TruncatedSampler(task, 0.7)
  assert sampler.conditional and sampler.num_labels == 10
  assert sampler.sample("state", 5, 3).shape == (5, 2)
  assert task.calls == [("state", 5, 3, 500, None, 0.7)]


def test_table_lists_each_threshold():
  lines = truncation_plot.table(ROWS).splitlines()
  assert lines[0] == "| truncation | fcd | precision | recall |"
  assert lines[2:] == ["| none | 12.500 | 0.600 | 0.550 |", "| 1 | 10.250 | 0.700 | 0.400 |",
                       "| 0.5 | 20.000 | 0.800 | 0.200 |"]


def test_plot_writes_a_png(tmp_path):
  path = tmp_path / "sub" / "t.png"
  truncation_plot.plot(ROWS, str(path))
  image = np.asarray(Image.open(path).convert("RGB"))
  assert image.shape == (400, 600, 3)
  red = (image[..., 0] > 200) & (image[..., 1] < 80) & (image[..., 2] < 80)
  assert red.sum() > 100  # the Frechet-distance curve was drawn
