"""VGG-11 with BatchNorm (Simonyan & Zisserman 2015, Table 1 column A; torchvision `vgg11_bn`) on
Fashion-MNIST with the small-input variant (no first max-pool).

  python -m launch.train --config configs/vgg11_fashion_mnist.py --workdir workdirs/vgg11_fashion_mnist

SGD + Nesterov 0.05, weight decay 5e-4 on kernels, warmup then cosine, label smoothing 0.1, flips and
2-pixel random crops, dropout 0.5 in the fc head; 20 epochs of 469 steps. 28,148,362 trainable
parameters at 28x28x1, 10 classes (the small-input head pools to 1x1: fc6 512 -> 4096, fc7 4096 -> 4096).

Result: not run to the end here. Measured 2026-11-23 on the 2-core CPU shared with other jobs (load ~12):
one train step at batch 32 took ~5.2 s.
"""
from configs import common


def get_config():
  c = common.classifier_config()
  c.experiment = "vgg11_fashion_mnist"
  c.dataset = "fashion_mnist"
  c.model.name = "vgg11_bn"
  c.model.small_inputs = True
  c.model.dropout = 0.5
  c.preprocess = "value_range(-1,1)|flip_lr|random_crop(28,2)"
  c.batch_size = 128
  c.total_steps = 20 * 469
  c.optimizer = common.optimizer("sgd", 0.05, momentum=0.9, nesterov=True, weight_decay=5e-4,
                                 schedule="cosine", warmup_steps=469)
  c.label_smoothing = 0.1
  c.log_every = 100
  c.eval_every = 2 * 469
  c.checkpoint_every = 469
  return c
