"""configs/sagan_fashion_mnist.py end to end with tiny widths (biggan's is in test_icgan.py, as IcGAN's
generator), then launch.sample with --truncation on the run; the cgan variant feeding BigGAN's conditioning."""
import json
import os
import subprocess
import sys

import jax
import jax.numpy as jnp
import numpy as np

from configs import biggan_fashion_mnist, sagan_fashion_mnist
from gans.data.pipeline import DataSpec
from gans.train import gan_step, gan_task, loop

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


def test_cgan_variant_conditions_biggan_g_batchnorms_and_d_projection():
  c = biggan_fashion_mnist.get_config()
  c.model.update(g_ch=2, d_ch=2, z_dim=8)
  c.batch_size = 4
  task = gan_task.GANTask(c, DataSpec(shape=(32, 32, 1), num_classes=10, num_examples=100))
  state = task.init(jax.random.key(0))
  assert "shared" in state.g.params and "embed" in state.d.params  # shared embedding; projection embedding
  # D(x, y) = linear(h) + <embed(y), h>: the labels enter only through the projection term.
  x = jax.random.uniform(jax.random.key(1), (2, 32, 32, 1), minval=-1, maxval=1)
  y3, y7 = jax.nn.one_hot(jnp.array([3, 3]), 10), jax.nn.one_hot(jnp.array([7, 7]), 10)
  heads = lambda cond: gan_step.discriminate(task.spec, state.d.params, state.d.batch_stats, x, cond, False)[0]
  unconditional = task.spec.discriminator.apply({"params": {k: v for k, v in state.d.params.items() if k != "embed"},
                                                 "batch_stats": state.d.batch_stats}, x, None, train=False)
  for cond in (y3, y7):
    from_d = task.spec.discriminator.apply({"params": state.d.params, "batch_stats": state.d.batch_stats}, x, cond,
                                           train=False)
    np.testing.assert_allclose(heads(cond)["adv"], from_d, rtol=1e-6)  # the variant passes the one-hot label
  assert not np.allclose(heads(y3)["adv"], heads(y7)["adv"])
  mixed = heads(0.25 * y3 + 0.75 * y7)["adv"] - unconditional  # the projection term is linear in y
  np.testing.assert_allclose(mixed, 0.25 * (heads(y3)["adv"] - unconditional) + 0.75 * (heads(y7)["adv"]
                                                                                         - unconditional),
                             rtol=1e-4, atol=1e-5)
  z = jax.random.normal(jax.random.key(2), (2, 8))
  assert not np.allclose(gan_step.generate(task.spec, state, z, y3), gan_step.generate(task.spec, state, z, y7))
