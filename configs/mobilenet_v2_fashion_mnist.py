"""MobileNetV2 (Sandler et al. 2018) with the small-input strides on Fashion-MNIST.

  python -m launch.train --config configs/mobilenet_v2_fashion_mnist.py --workdir workdirs/mobilenet_v2_fashion_mnist

SGD + Nesterov 0.05, weight decay 4e-5 on kernels (the paper's, sec. 6.1), warmup then cosine, label
smoothing 0.1, flips and 2-pixel random crops, dropout 0.2; 30 epochs of 469 steps.

Result: not run to the end here. Measured 2026-11-23 on the 2-core CPU shared with other jobs (load ~12):
one train step at batch 32 took ~16 s (XLA:CPU's depthwise / grouped convolutions are slow).
"""
from configs import common


def get_config():
  c = common.classifier_config()
  c.experiment = "mobilenet_v2_fashion_mnist"
  c.dataset = "fashion_mnist"
  c.model.name = "mobilenet_v2"
  c.model.small_inputs = True
  c.model.width = 1.0
  c.model.dropout = 0.2
  c.preprocess = "value_range(-1,1)|flip_lr|random_crop(28,2)"
  c.batch_size = 128
  c.total_steps = 30 * 469
  c.optimizer = common.optimizer("sgd", 0.05, momentum=0.9, nesterov=True, weight_decay=4e-5,
                                 schedule="cosine", warmup_steps=469)
  c.label_smoothing = 0.1
  c.log_every = 100
  c.eval_every = 2 * 469
  c.checkpoint_every = 469
  return c
