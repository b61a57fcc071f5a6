"""StyleGAN2 config F (Karras et al. 2020) scaled down for a 2-core CPU, on Fashion-MNIST at 32x32: logistic
loss, style mixing 0.9, lazy R1 every 16 steps and path-length regularisation every 4 (weight 2),
Adam(0.002, 0, 0.99) corrected for the lazy updates (app. B), EMA of G (half-life 10k images, as
stylegan2-ada's ema_kimg = batch * 10 / 32). R1 gamma 0.01 and a 2-layer mapping network as stylegan2-ada's
CIFAR-10 setting (`--cfg=cifar`); 32 feature maps at every resolution (the paper: 512 at 32x32).

  python -m launch.train --config configs/stylegan2_fashion_mnist.py --workdir workdirs/stylegan2_fashion_mnist
  python -m launch.sample --workdir workdirs/stylegan2_fashion_mnist --out samples.png
"""
import ml_collections

from configs import common


def stylegan2_config(experiment: str, dataset: str) -> ml_collections.ConfigDict:
  c = common._base("stylegan2")  # pylint: disable=protected-access
  c.experiment, c.dataset = experiment, dataset
  c.image_size = 32
  c.preprocess = "value_range(-1,1)"
  c.batch_size = 32
  c.total_steps = 20_000
  c.log_every = 100
  c.eval_every = c.checkpoint_every = 2_000
  # stylegan2's options (gans.models.gan.stylegan2): channel_base = fmaps * 32768, capped at cmax.
  c.model = ml_collections.ConfigDict({"name": "stylegan2", "map": 2, "fmaps": 0.03125, "cmax": 32, "mbstd": 4,
                                       "architecture": "resnet", "z_dim": 128, "w_dim": 128})
  c.stylegan2 = ml_collections.ConfigDict({
      "r1_gamma": 0.01, "r1_interval": 16, "pl_weight": 2.0, "pl_interval": 4, "pl_batch_shrink": 2,
      "pl_decay": 0.01, "style_mixing": 0.9})
  c.ema_decay = 0.5 ** (c.batch_size / 10_000)  # half-life 10k images
  c.g_optimizer = common.optimizer("adam", 0.002, b1=0.0, b2=0.99, eps=1e-8)
  c.d_optimizer = common.optimizer("adam", 0.002, b1=0.0, b2=0.99, eps=1e-8)
  return c


def get_config():
  return stylegan2_config("stylegan2_fashion_mnist", "fashion_mnist")
