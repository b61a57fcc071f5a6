"""VGG-11 with BatchNorm (Simonyan & Zisserman 2015, Table 1 column A; torchvision `vgg11_bn`) on
Fashion-MNIST with the small-input variant (no first max-pool).

  python -m launch.train --config configs/vgg11_fashion_mnist.py --workdir workdirs/vgg11_fashion_mnist

SGD + Nesterov 0.05, weight decay 5e-4 on kernels, warmup then cosine, label smoothing 0.1, flips and
2-pixel random crops, dropout 0.5 in the fc head; 20 epochs of 469 steps. 28,148,362 trainable
parameters at 28x28x1, 10 classes (the small-input head pools to 1x1: fc6 512 -> 4096, fc7 4096 -> 4096).

Result: not run to the end here (seconds per step on the 2-core CPU; docs/performance.md).
"""
from configs import common


def get_config():
  return common.fashion_mnist_classifier("vgg11_fashion_mnist", "vgg11_bn", epochs=20, learning_rate=0.05,
                                         weight_decay=5e-4, dropout=0.5)
