"""CIFAR ResNet-20 (He et al. 2016, sec. 4.2) on Fashion-MNIST, with random erasing.

  python -m launch.train --config configs/resnet20_fashion_mnist.py --workdir workdirs/resnet20_fashion_mnist

SGD + Nesterov 0.1, weight decay 5e-4 on kernels, 1 epoch warmup then cosine, label smoothing 0.1, flips,
2-pixel random crops and random erasing with the paper's Fashion-MNIST settings (Zhong et al. 2017,
sec. 4.1: p = 0.5, area 0.02-0.4, aspect ratio 0.3-3.3, random fill); test-time flip averaging.
"""
from configs import common


def get_config():
  c = common.fashion_mnist_classifier("resnet20_fashion_mnist", "resnet20", epochs=20, learning_rate=0.1,
                                      weight_decay=5e-4)
  c.preprocess += "|random_erasing(0.5,0.02,0.4,0.3)"
  c.tta_flip = True
  return c
