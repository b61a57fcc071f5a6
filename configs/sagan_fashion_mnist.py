"""SAGAN (Zhang et al. 2019) on Fashion-MNIST resized to 32x32, class-conditional: the BigGAN-PyTorch SAGAN
baseline (`gans.models.gan.biggan` without shared embedding or hierarchical z: per-BN class embeddings in G,
projection D), self-attention after G's 16x16 block (sec. 3; none in D, whose 32 px table in BigGAN-PyTorch lists all
four blocks at 16 px), spectral norm in G and D (sec. 4.1), hinge
loss, one D step per G step with TTUR learning rates 1e-4 / 4e-4 and Adam(b1=0, b2=0.9) (sec. 4.2, 5), plus
an EMA of G with standing statistics and DiffAugment (Zhao et al. 2020). Widths cut down (ch 16, batch 32: 58
GFLOP per step) so that 3,000 steps take about an hour of a 2-core CPU.

  python -m launch.train --config configs/sagan_fashion_mnist.py --workdir workdirs/sagan_fashion_mnist
"""
from configs import biggan_fashion_mnist


def get_config():
  c = biggan_fashion_mnist.biggan_fashion_mnist("sagan_fashion_mnist", shared=False, hier=False, ch=16,
                                                attention="16", z_dim=128, n_critic=1, g_lr=1e-4, d_lr=4e-4, b2=0.9)
  c.total_steps = 3_000
  return c
