"""Two training steps of every LAPGAN / ProGAN / StyleGAN2 / Stacked-MNIST config with tiny widths, through
the train loop (evaluation pictures and checkpoint included)."""
import importlib
import json

import numpy as np
import pytest

from gans.train import loop

TINY = {
    "stylegan2": {"fmaps": 1 / 512, "cmax": 8, "z_dim": 8, "w_dim": 8, "map": 1},
    "progan": {"fmap_base": 16, "fmap_max": 8, "z_dim": 8},
    "lapgan": {"hidden_g0": 16, "hidden_d0": 8, "hidden_g": 4, "hidden_d": 4, "noise_dim": 8},
    "dcgan": {"g_width": 8, "d_width": 8},
    "lenet5": {},
}
CONFIGS = ("lapgan_fashion_mnist", "progan_fashion_mnist", "stylegan2_fashion_mnist", "dcgan_stacked_mnist",
           "pacgan_stacked_mnist", "progan_stacked_mnist", "stylegan2_stacked_mnist", "lenet5_mnist_5k")


@pytest.mark.parametrize("name", CONFIGS)
def test_two_steps_with_tiny_widths(name, tmp_path, data_dir):
  c = importlib.import_module(f"configs.{name}").get_config()
  c.model.update(TINY[c.model.name])
  c.update(data_dir=data_dir, batch_size=4, total_steps=2, log_every=1, eval_every=2, checkpoint_every=2,
           num_devices=1)
  if "progan" in c:
    c.progan.images_per_phase = 4  # step 1 at 4x4, step 2 fading in 8x8
  state = loop.train_and_evaluate(c, str(tmp_path))
  assert int(np.asarray(state.step)) == 2
  lines = [json.loads(line) for line in open(tmp_path / "metrics.jsonl")]
  train = [line for line in lines if "steps_per_sec" in line]
  assert [line["step"] for line in train] == [1, 2]
  assert all(np.isfinite(v) for line in train for v in line.values())
  if c.task != "classifier":
    assert (tmp_path / "samples" / "step_2.png").exists()
  if c.task == "progan":
    assert [line["resolution"] for line in train] == [4, 8]
    assert (tmp_path / "samples" / "growth_step_2.png").exists()
