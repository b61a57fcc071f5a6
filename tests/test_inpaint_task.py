"""Context-encoder inpainting: a 2-step run with random-block masks, its evaluation beside the biharmonic
baseline, and `launch.translate` on the trained run (PNG in, PNG out; a grey image is one error line)."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from configs import inpaint_natural_images
from gans import parallel
from gans.data import pipeline
from gans.train import loop

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
pytestmark = pytest.mark.skipif(not os.environ.get("GANS_NATURAL_IMAGES_DIR"),
                                reason="the offline photographs ($GANS_NATURAL_IMAGES_DIR) are not here")


@pytest.fixture(scope="module")
def trained(data_dir, tmp_path_factory):
  config = inpaint_natural_images.get_config()
  config.num_devices = 1
  config.model.update(nBottleneck=8, nef=4, ngf=4, ndf=4)
  config.inpaint.mask = "random_block"
  config.batch_size, config.eval_images = 2, 3
  config.total_steps, config.log_every, config.eval_every, config.checkpoint_every = 2, 1, 2, 2
  workdir = tmp_path_factory.mktemp("inpaint")
  state = loop.train_and_evaluate(config, str(workdir))
  return config, state, workdir


def test_two_step_run_scores_the_hidden_region_beside_biharmonic(trained):
  _, _, workdir = trained
  final = [json.loads(line) for line in open(workdir / "metrics.jsonl")][-1]
  assert final["step"] == 2
  for key in ("psnr", "ssim", "biharmonic_psnr", "biharmonic_ssim"):
    assert np.isfinite(final[f"set14_{key}"]), key
  assert final["set14_biharmonic_psnr"] > final["set14_psnr"]  # an untrained network loses to the baseline
  assert os.path.exists(workdir / "translations" / "step_2.png")


def test_translate_fills_only_the_centre(trained):
  config, state, _ = trained
  task = loop.create_task(config, pipeline.data_spec(config), parallel.mesh_from_config(config))
  image = np.random.default_rng(0).integers(0, 256, (130, 141, 3), np.uint8)
  out = task.translate(state, image)
  assert out.shape == image.shape and out.dtype == np.uint8
  changed = np.any(out != image, -1)
  rows, cols = np.nonzero(changed)
  # the hidden part of the centre of the central 128 x 128 crop (corner (1, 6)): rows/cols 36..91 of the crop
  assert rows.min() >= 1 + 36 and rows.max() <= 1 + 91 and cols.min() >= 6 + 36 and cols.max() <= 6 + 91
  assert changed.sum() > 0.5 * 56 * 56


def _translate(workdir, out_dir, *inputs):
  env = {**os.environ, "XLA_FLAGS": os.environ["GANS_TEST_XLA_FLAGS"]}
  return subprocess.run([sys.executable, "-m", "launch.translate", "--workdir", str(workdir), "--out_dir",
                         str(out_dir), "--input", *map(str, inputs)], cwd=ROOT, env=env, capture_output=True,
                        text=True, timeout=300)


def test_launch_translate_png_in_png_out_and_one_error_line_for_grey(trained, tmp_path):
  _, _, workdir = trained
  rng = np.random.default_rng(1)
  Image.fromarray(rng.integers(0, 256, (128, 128, 3), np.uint8)).save(tmp_path / "photo.png")
  Image.fromarray(rng.integers(0, 256, (150, 160), np.uint8)).save(tmp_path / "grey.png")
  out_dir = tmp_path / "out"
  proc = _translate(workdir, out_dir, tmp_path / "photo.png")
  assert proc.returncode == 0, proc.stderr[-2000:]
  assert sorted(os.listdir(out_dir)) == ["photo.png"]
  with Image.open(out_dir / "photo.png") as result:
    assert result.size == (128, 128) and result.mode == "RGB"
  proc = _translate(workdir, tmp_path / "out2", tmp_path / "grey.png")
  assert proc.returncode != 0
  errors = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
  assert len(errors) == 1 and "C in (3,)" in errors[0], proc.stderr[-2000:]
  assert "Traceback" not in proc.stderr
