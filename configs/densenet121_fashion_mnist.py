"""DenseNet-121 (Huang et al. 2017; torchvision `densenet121`) with the small-input stem on Fashion-MNIST.

  python -m launch.train --config configs/densenet121_fashion_mnist.py --workdir workdirs/densenet121_fashion_mnist

No smaller DenseNet (e.g. the paper's CIFAR DenseNet-BC, L=100, k=12) is registered, so this is
densenet121 with `small_inputs` (3x3 stride-1 stem, no max-pool). SGD + Nesterov 0.1, weight decay 1e-4
on kernels (the paper's, sec. 4.2), batch 64, warmup then cosine, label smoothing 0.1, flips and
2-pixel random crops; 20 epochs of 938 steps.

Result: not run here: on the 2-core CPU shared with other jobs (2026-11-23) one step takes many seconds.
"""
from configs import common


def get_config():
  c = common.classifier_config()
  c.experiment = "densenet121_fashion_mnist"
  c.dataset = "fashion_mnist"
  c.model.name = "densenet121"
  c.model.small_inputs = True
  c.model.drop_rate = 0.0
  c.preprocess = "value_range(-1,1)|flip_lr|random_crop(28,2)"
  c.batch_size = 64
  c.eval_batch_size = 200
  c.total_steps = 20 * 938
  c.optimizer = common.optimizer("sgd", 0.1, momentum=0.9, nesterov=True, weight_decay=1e-4,
                                 schedule="cosine", warmup_steps=938)
  c.label_smoothing = 0.1
  c.log_every = 100
  c.eval_every = 2 * 938
  c.checkpoint_every = 938
  return c
