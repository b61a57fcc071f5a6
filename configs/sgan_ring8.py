"""Semi-supervised GAN (Salimans et al. 2016, sec. 5): K+1-way D (fake logit fixed at 0) trained on
sgan.labels_per_class labelled examples per class (the first of each class in the stored train
order) plus all data unlabelled; feature-matching G loss; minibatch discrimination in D. On the ring of 8 Gaussians.

  python -m launch.train --config configs/sgan_ring8.py --workdir workdirs/sgan_ring8
  python -m launch.evaluate --workdir workdirs/sgan_ring8

`variant(c)` sets this variant's keys on any GAN config; the grid25 and Fashion-MNIST configs reuse it.
"""
from configs import nsgan_ring8


def variant(c):
  """This variant's loss / penalty / options, on top of any GAN config."""
  c.variant = "sgan"
  c.loss = "nsgan"  # D's unsupervised terms; G uses feature matching
  c.feature_matching = True
  c.model.minibatch_kernels = 50
  c.model.minibatch_dim = 5
  c.sgan.labels_per_class = 100
  c.sgan.labelled_batch = 100
  return c


def get_config():
  c = variant(nsgan_ring8.get_config())
  c.experiment = "sgan_ring8"
  c.model.minibatch_kernels = 16
  # No YNNPACK reductions: they do not fuse the broadcast differences they sum, so minibatch
  # discrimination's B x B x 16 x 5 tensor was materialised, 136 -> 838 ms per step (docs/performance.md).
  c.xla_cpu_ynn_fusions = ""
  return c
