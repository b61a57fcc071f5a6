"""Non-saturating GAN (Goodfellow et al. 2014, sec. 3) with MLPs on the PacGAN grid of 25 Gaussians.

  python -m launch.train --config configs/nsgan_grid25.py --workdir workdirs/nsgan_grid25

`to_grid25(c, name)` turns any ring8 config into its grid25 version (the other *_grid25 configs use it).
"""
from configs import nsgan_ring8


def to_grid25(c, experiment: str):
  """The grid of 25 (means -4..4 step 2, std 0.05): a wider spread, so one more hidden layer each."""
  c.experiment = experiment
  c.dataset = "grid25"
  c.model.g_hidden = tuple(c.model.g_hidden) + (128,)
  c.model.d_hidden = tuple(c.model.d_hidden) + (128,)
  return c


def get_config():
  return to_grid25(nsgan_ring8.get_config(), "nsgan_grid25")
