"""BigGAN (Brock, Donahue & Simonyan 2019) on Fashion-MNIST resized to 32x32, class-conditional: the
BigGAN-PyTorch networks (`gans.models.gan.biggan`: shared class embedding and hierarchical z in G, projection
D, spectral norm in G and D, orthogonal init), hinge loss, two D steps per G step with TTUR learning rates and
Adam(b1=0, b2=0.999) (sec. 4 and app. C), orthogonal regularisation beta = 1e-4 on G (sec. 3.1), EMA of G's
weights sampled with standing statistics (app. C), and DiffAugment (Zhao et al. 2020) on D's inputs. Widths
cut down (ch 16, batch 32: 88 GFLOP per step, XLA's count) so that 2,000 steps take about an hour of a 2-core
CPU.

  python -m launch.train --config configs/biggan_fashion_mnist.py --workdir workdirs/biggan_fashion_mnist
  python -m launch.sample --workdir workdirs/biggan_fashion_mnist --num 100 --out s.npz --truncation 1.0
"""
import ml_collections

from configs import common


def biggan_fashion_mnist(experiment: str, *, shared: bool, hier: bool, ch: int, attention: str, z_dim: int,
                         n_critic: int, g_lr: float, d_lr: float, b2: float) -> ml_collections.ConfigDict:
  """The BigGAN / SAGAN recipe on Fashion-MNIST at 32x32: hinge loss, spectral norm, class-conditional G
  (conditional BN) and projection D via the `cgan` variant, TTUR, EMA with standing statistics, DiffAugment."""
  c = common.gan_config()
  c.experiment = experiment
  c.dataset = "fashion_mnist"
  c.image_size = 32  # resized from 28 (BigGAN's smallest architecture is 32 px)
  c.preprocess = "value_range(-1,1)"
  c.model = ml_collections.ConfigDict({
      "name": "biggan", "z_dim": z_dim, "g_ch": ch, "d_ch": ch, "g_attn": attention, "d_attn": "0",
      "g_shared": shared, "shared_dim": 0, "hier": hier, "d_wide": True, "init": "ortho",
      "spectral_norm": True, "dtype": "float32"})
  c.variant = "cgan"  # G's conditional BN and D's projection take the one-hot label
  c.loss = "hinge"
  c.n_critic = n_critic
  c.batch_size = 32
  c.g_optimizer = common.optimizer("adam", g_lr, b1=0.0, b2=b2, eps=1e-6)
  c.d_optimizer = common.optimizer("adam", d_lr, b1=0.0, b2=b2, eps=1e-6)
  c.ema_decay = 0.999
  c.standing_stats_batches = 16  # BigGAN-PyTorch's num_standing_accumulations
  c.standing_stats_batch_size = 32
  c.diffaugment = "color,translation,cutout"
  c.ortho_reg = 0.0
  c.total_steps = 2_000
  c.log_every = 100
  c.eval_every = 500
  c.checkpoint_every = 500
  c.eval_extractor = "shipped:fashion_mnist"  # samples resized to its 28x28 input
  c.eval_kid_subsets = 10
  return c


def get_config():
  c = biggan_fashion_mnist("biggan_fashion_mnist", shared=True, hier=True, ch=16, attention="0", z_dim=120,
                           n_critic=2, g_lr=1e-4, d_lr=4e-4, b2=0.999)
  c.ortho_reg = 1e-4  # beta (sec. 3.1)
  return c
