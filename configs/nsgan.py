"""Non-saturating GAN (Goodfellow et al. 2014, sec. 3) with MLPs on the PacGAN 2-D mixtures; the baseline
the other mixture configs are tuned from (configs/common.py, `mixture_gan`).

  python -m launch.train --config configs/nsgan.py:ring8 --workdir workdirs/nsgan_ring8
  python -m launch.evaluate --workdir workdirs/nsgan_ring8
  (datasets: ring8 (default), grid25)

Result (launch.gan_table, 2-core CPU; docs/performance.md): ring8 2026-11-23, seeds 0-2: 8/8 modes, 93.2-98.6%
high quality; grid25 2026-12-02, seeds 0-1: 24/25 and 25/25 modes, 97.0-97.4%.
"""
from configs import common

DATASETS = ("ring8", "grid25")


def get_config(dataset: str = "ring8"):
  common.check_dataset("nsgan.py", dataset, DATASETS)
  return common.mixture_gan(f"nsgan_{dataset}", dataset)
