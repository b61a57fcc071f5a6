"""LAPGAN (Denton et al. 2015) on Fashion-MNIST at 32x32: a three-level pyramid 8 -> 16 -> 32, each level a GAN
trained on its own pyramid level (the finer ones conditioned on the upsampled coarser real image), sampled
coarse to fine. The paper's CIFAR-10 networks (sec. 4: fully connected 1200 / 600 units at 8x8) with the
convolutional levels halved for a 2-core CPU (32 maps, the paper: 64), batch 32, and Adam(2e-4, 0.5) instead
of the paper's SGD with momentum.

  python -m launch.train --config configs/lapgan_fashion_mnist.py --workdir workdirs/lapgan_fashion_mnist
  (samples/pyramid_step_<N>.png: each level's output, coarsest first)
"""
import ml_collections

from configs import common


def get_config():
  c = common._base("lapgan")  # pylint: disable=protected-access
  c.experiment, c.dataset = "lapgan_fashion_mnist", "fashion_mnist"
  c.image_size = 32
  c.preprocess = "value_range(-1,1)"
  c.batch_size = 32
  c.total_steps = 10_000
  c.log_every = 100
  c.eval_every = c.checkpoint_every = 1_000
  c.model = ml_collections.ConfigDict({"name": "lapgan", "coarse_size": 8, "noise_dim": 100, "hidden_g0": 1200,
                                       "hidden_d0": 600, "hidden_g": 32, "hidden_d": 32, "dropout": 0.5})
  c.g_optimizer = common.optimizer("adam", 2e-4, b1=0.5, b2=0.999)
  c.d_optimizer = common.optimizer("adam", 2e-4, b1=0.5, b2=0.999)
  return c
