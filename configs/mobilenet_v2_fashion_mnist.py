"""MobileNetV2 (Sandler et al. 2018) with the small-input strides on Fashion-MNIST.

  python -m launch.train --config configs/mobilenet_v2_fashion_mnist.py --workdir workdirs/mobilenet_v2_fashion_mnist

SGD + Nesterov 0.05, weight decay 4e-5 on kernels (the paper's, sec. 6.1), warmup then cosine, label
smoothing 0.1, flips and 2-pixel random crops, dropout 0.2; 30 epochs of 469 steps.

Result: not run to the end here (seconds per step on the 2-core CPU; docs/performance.md).
"""
from configs import common


def get_config():
  c = common.fashion_mnist_classifier("mobilenet_v2_fashion_mnist", "mobilenet_v2", epochs=30,
                                      learning_rate=0.05, weight_decay=4e-5, width=1.0, dropout=0.2)
  # No YNNPACK reductions: the depthwise kernel gradients (a sum over the batch per tap) ran slower
  # with them (docs/performance.md).
  c.xla_cpu_ynn_fusions = ""
  return c
