"""Non-saturating GAN (Goodfellow et al. 2014, sec. 3) with MLPs on the PacGAN ring of 8 Gaussians.

  python -m launch.train --config configs/nsgan_ring8.py --workdir workdirs/nsgan_ring8
  python -m launch.evaluate --workdir workdirs/nsgan_ring8
"""
from configs import common


def get_config():
  c = common.gan_config()
  c.experiment = "nsgan_ring8"
  c.dataset = "ring8"
  c.model.name = "mlp"
  c.model.z_dim = 2
  c.model.g_hidden = (128, 128)
  c.model.d_hidden = (128, 128)
  c.batch_size = 256
  c.total_steps = 3_000
  c.log_every = 100
  c.eval_every = 500
  c.checkpoint_every = 500
  c.g_optimizer = common.optimizer("adam", 1e-3, b1=0.5, b2=0.999)
  c.d_optimizer = common.optimizer("adam", 1e-3, b1=0.5, b2=0.999)
  return c
