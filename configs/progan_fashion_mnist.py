"""Progressive GAN (Karras et al. 2018) on Fashion-MNIST at 32x32, sized for a 2-core CPU: growing from 4x4
with 64k images per fade-in and per stable phase (the paper: 800k), WGAN-GP (lambda 10) with the drift term
eps = 0.001, Adam(0.001, 0, 0.99), EMA of G 0.999 (sec. A.1); 16-64 feature maps (the paper: 512).

  python -m launch.train --config configs/progan_fashion_mnist.py --workdir workdirs/progan_fashion_mnist
  (samples/growth_step_<N>.png: the same latents at every resolution reached)
"""
import ml_collections

from configs import common


def progan_config(experiment: str, dataset: str) -> ml_collections.ConfigDict:
  c = common._base("progan")  # pylint: disable=protected-access
  c.experiment, c.dataset = experiment, dataset
  c.image_size = 32
  c.preprocess = "value_range(-1,1)"
  c.batch_size = 32
  # 4x4, then 8, 16, 32 each fading in then stabilising: 7 phases of 64k images = 14,000 steps, then 2,000
  # more at 32x32.
  c.progan = ml_collections.ConfigDict({"images_per_phase": 64_000, "gp_weight": 10.0, "drift": 0.001})
  c.total_steps = 16_000
  c.log_every = 100
  c.eval_every = c.checkpoint_every = 2_000
  c.model = ml_collections.ConfigDict({"name": "progan", "fmap_base": 256, "fmap_decay": 1.0, "fmap_max": 64,
                                       "mbstd_group_size": 4, "z_dim": 128})
  c.ema_decay = 0.999
  c.g_optimizer = common.optimizer("adam", 0.001, b1=0.0, b2=0.99, eps=1e-8)
  c.d_optimizer = common.optimizer("adam", 0.001, b1=0.0, b2=0.99, eps=1e-8)
  return c


def get_config():
  return progan_config("progan_fashion_mnist", "fashion_mnist")
