"""DenseNet-121 (Huang et al. 2017; torchvision `densenet121`) with the small-input stem on Fashion-MNIST.

  python -m launch.train --config configs/densenet121_fashion_mnist.py --workdir workdirs/densenet121_fashion_mnist

No smaller DenseNet (e.g. the paper's CIFAR DenseNet-BC, L=100, k=12) is registered, so this is
densenet121 with `small_inputs` (3x3 stride-1 stem, no max-pool). SGD + Nesterov 0.1, weight decay 1e-4
on kernels (the paper's, sec. 4.2), batch 64, warmup then cosine, label smoothing 0.1, flips and
2-pixel random crops; 20 epochs of 938 steps.

Result: not run here (seconds per step on the 2-core CPU; docs/performance.md).
"""
from configs import common


def get_config():
  c = common.fashion_mnist_classifier("densenet121_fashion_mnist", "densenet121", epochs=20, learning_rate=0.1,
                                      weight_decay=1e-4, batch_size=64, drop_rate=0.0)
  c.eval_batch_size = 200
  return c
