"""configs/sagan_fashion_mnist.py end to end with tiny widths (biggan's is in test_icgan.py, as IcGAN's
generator), then launch.sample with --truncation on the run."""
import json
import os
import subprocess
import sys

import numpy as np

from configs import sagan_fashion_mnist
from gans.train import loop

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_sagan_config_trains_then_samples_truncated(tmp_path, data_dir):
  c = sagan_fashion_mnist.get_config()
  c.model.update(g_ch=2, d_ch=2, z_dim=8)
  c.update(total_steps=2, batch_size=8, log_every=1, eval_every=2, checkpoint_every=2, num_devices=1,
           dataset="mnist_5k", data_dir=data_dir, standing_stats_batches=2, standing_stats_batch_size=4)
  assert (c.loss, c.variant, c.model.spectral_norm, c.diffaugment) == ("hinge", "cgan", True,
                                                                         "color,translation,cutout")
  assert c.g_optimizer.learning_rate < c.d_optimizer.learning_rate and c.ema_decay > 0
  loop.train_and_evaluate(c, str(tmp_path / "run"))
  lines = [json.loads(line) for line in open(tmp_path / "run" / "metrics.jsonl")]
  assert [line["step"] for line in lines if "d_loss" in line] == [1, 2]
  assert (tmp_path / "run" / "samples" / "step_2.png").exists()
  env = {**os.environ, "XLA_FLAGS": os.environ["GANS_TEST_XLA_FLAGS"]}
  proc = subprocess.run([sys.executable, "-m", "launch.sample", "--workdir", str(tmp_path / "run"), "--num", "6",
                         "--out", str(tmp_path / "s.npz"), "--truncation", "0.5", "--labels", "2"], cwd=ROOT,
                        env=env, capture_output=True, text=True, timeout=600)
  assert proc.returncode == 0, proc.stderr[-3000:]
  out = np.load(tmp_path / "s.npz")
  assert out["samples"].shape == (6, 32, 32, 1) and np.abs(out["samples"]).max() <= 1
  np.testing.assert_array_equal(out["labels"], [2] * 6)
