"""LAPGAN (Denton et al. 2015) on Fashion-MNIST at 32x32: a three-level pyramid 8 -> 16 -> 32, each level a GAN
trained on its own pyramid level (the finer ones conditioned on the upsampled coarser real image), sampled
coarse to fine. The paper's CIFAR-10 networks (sec. 4: fully connected 1200 / 600 units at 8x8) with the
convolutional levels halved for a 2-core CPU (32 maps, the paper: 64), batch 32, and the two time-scale update
rule (Heusel et al. 2017: Adam with beta1 = 0, D at 4e-4 and G at 1e-4, as SAGAN and BigGAN) instead of the
paper's SGD with momentum. With Adam(2e-4, beta1 0.5) for both players, the fully connected 8x8 level collapsed
to one image within 1,000 steps (per-pixel standard deviation over 1,000 samples 0.07; also without dropout,
0.06, and at 1e-4, 0.09); with SGD(0.02, momentum 0.5), the paper's start, it was 0.11 at 2,000 steps; with
these settings 0.43 (2,000-step runs of that level alone, `--config.image_size=8`).

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
  c.g_optimizer = common.optimizer("adam", 1e-4, b1=0.0, b2=0.999)
  c.d_optimizer = common.optimizer("adam", 4e-4, b1=0.0, b2=0.999)
  return c
