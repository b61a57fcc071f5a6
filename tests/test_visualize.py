"""gans.visualize's labelled figure: layout, blank cells, nearest-neighbour zoom and its input checks."""
import numpy as np
import pytest
from PIL import Image

from gans import visualize


def test_labelled_grid_lays_out_rows_and_zooms_without_smoothing(tmp_path):
  checker = np.kron(np.indices((8, 8)).sum(0) % 2, np.ones((4, 4)))[..., None].repeat(3, -1) * 255
  cells = [[checker.astype(np.uint8), None], [np.zeros((32, 32, 3), np.uint8), np.full((32, 32, 1), 128, np.uint8)]]
  path = visualize.save_labelled_grid(cells, str(tmp_path / "g.png"), ["", ""], zoom=3)
  figure = np.asarray(Image.open(path).convert("RGB"))
  assert figure.shape[0] > 2 * 96 and figure.shape[1] > 2 * 96  # two rows and columns of 96-pixel cells
  # nearest neighbours on a white page: black, white and grey 128 only (smoothing would blend the checks)
  assert set(np.unique(figure).tolist()) == {0, 128, 255}
  titled = visualize.save_labelled_grid(cells, str(tmp_path / "t.png"), ["left", "right"], ["r1", "r2"], zoom=3)
  assert len(np.unique(np.asarray(Image.open(titled).convert("RGB")))) > 3  # the titles' antialiased text


@pytest.mark.parametrize("cells,titles,rows", [([[np.zeros((4, 4, 3), np.uint8)]], ["a", "b"], None),
                                               ([[np.zeros((4, 4, 3), np.uint8)], []], ["a"], None),
                                               ([[None]], ["a"], None),
                                               ([[np.zeros((4, 4, 3), np.uint8)]], ["a"], ["r1", "r2"])])
def test_labelled_grid_rejects_inconsistent_input(tmp_path, cells, titles, rows):
  with pytest.raises(ValueError):
    visualize.save_labelled_grid(cells, str(tmp_path / "g.png"), titles, rows)
