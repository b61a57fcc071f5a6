"""Semi-supervised GAN (Salimans et al. 2016, sec. 5): K+1-way D (fake logit fixed at 0) trained on
sgan.labels_per_class labelled examples per class (the first of each class in the stored train
order) plus all data unlabelled; feature-matching G loss; minibatch discrimination in D. DCGAN backbone on Fashion-MNIST.

  python -m launch.train --config configs/sgan_fashion_mnist.py --workdir workdirs/sgan_fashion_mnist
"""
from configs import dcgan_fashion_mnist, sgan_ring8


def get_config():
  c = sgan_ring8.variant(dcgan_fashion_mnist.get_config())
  c.experiment = "sgan_fashion_mnist"
  c.eval_every = 1_000  # reports test_accuracy of the K-way classifier
  return c
