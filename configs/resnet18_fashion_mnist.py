"""ResNet-18 (He et al. 2016) with the small-input stem on Fashion-MNIST, with random erasing.

  python -m launch.train --config configs/resnet18_fashion_mnist.py --workdir workdirs/resnet18_fashion_mnist

SGD + Nesterov 0.1, weight decay 5e-4 on kernels, 1 epoch warmup then cosine, label smoothing 0.1,
flips, 2-pixel random crops and random erasing with the paper's Fashion-MNIST settings (Zhong et al.
2017, sec. 4.1: p = 0.5, area 0.02-0.4, aspect ratio 0.3-3.3, random fill); 30 epochs of 469 steps.
Mixed precision: --config.model.dtype=bfloat16 (params and loss stay float32).

Result: not run to the end here (seconds per step on the 2-core CPU; docs/performance.md).
"""
from configs import common


def get_config():
  c = common.fashion_mnist_classifier("resnet18_fashion_mnist", "resnet18", epochs=30, learning_rate=0.1,
                                      weight_decay=5e-4)
  c.preprocess += "|random_erasing(0.5,0.02,0.4,0.3)"
  c.tta_flip = True
  # YNNPACK's elementwise fusions too: 1.11x over reductions alone here (docs/performance.md; they made
  # DCGAN, VGG, DenseNet and MobileNet slower).
  c.xla_cpu_ynn_fusions = "reduce,eltwise"
  return c
