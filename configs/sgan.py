"""Semi-supervised GAN (Salimans et al. 2016, sec. 5): K+1-way D (fake logit fixed at 0) trained on
sgan.labels_per_class labelled examples per class (the first of each class in the stored train order) plus
all data unlabelled; feature-matching G loss; minibatch discrimination in D. The nsgan MLPs on ring8, the
DCGAN backbone on Fashion-MNIST.

  python -m launch.train --config configs/sgan.py:fashion_mnist --workdir workdirs/sgan_fashion_mnist
  python -m launch.train --config configs/sgan.py:ring8 --workdir workdirs/sgan_ring8
  (datasets: ring8 (default), fashion_mnist)

Result (Fashion-MNIST, 1,000 steps, launch.gan_table, 2026-11-23, 2-core CPU): 81.4% test accuracy with 100
labels per class; sample grid in the README.
"""
from configs import common

DATASETS = ("ring8", "fashion_mnist")


def settings(c):
  """This variant's loss, model and options, on top of any GAN config."""
  c.variant = "sgan"
  c.loss = "nsgan"  # D's unsupervised terms; G uses feature matching
  c.feature_matching = True
  c.model.minibatch_kernels = 50
  c.model.minibatch_dim = 5
  c.sgan.labels_per_class = 100
  c.sgan.labelled_batch = 100
  return c


def get_config(dataset: str = "ring8"):
  common.check_dataset("sgan.py", dataset, DATASETS)
  if dataset == "fashion_mnist":
    c = common.dcgan_fashion_mnist("sgan_fashion_mnist", settings)
    c.eval_every = 1_000  # reports test_accuracy of the K-way classifier
    return c
  c = common.mixture_gan(f"sgan_{dataset}", dataset, settings)
  c.model.minibatch_kernels = 16
  # No YNNPACK reductions: they do not fuse the broadcast differences they sum, so minibatch
  # discrimination's B x B x 16 x 5 tensor is materialised (docs/performance.md, session 9).
  c.xla_cpu_ynn_fusions = ""
  return c
