"""DRAGAN (Kodali et al. 2017): the standard (non-saturating) GAN loss plus lambda = 10 times the
gradient penalty around perturbed real data (c = 0.5). On the ring of 8 Gaussians.

  python -m launch.train --config configs/dragan_ring8.py --workdir workdirs/dragan_ring8
  python -m launch.evaluate --workdir workdirs/dragan_ring8

`variant(c)` sets this variant's keys on any GAN config; the grid25 and Fashion-MNIST configs reuse it.
"""
import ml_collections

from configs import common, nsgan_ring8


def variant(c):
  """This variant's loss / penalty / options, on top of any GAN config."""
  c.loss = "nsgan"
  c.penalty = "dragan"
  c.penalty_options = ml_collections.ConfigDict({"c": 0.5})
  c.penalty_weight = 10.0
  c.model.d_batch_norm = False  # the penalty needs per-sample input gradients
  return c


def get_config():
  c = variant(nsgan_ring8.get_config())
  c.experiment = "dragan_ring8"
  return c
