"""LeNet-5 (LeCun et al. 1998) on Fashion-MNIST: 28x28 edge-padded to 32x32, the paper's scaled tanh
("squash"), a trainable 84 -> 10 output (the paper's fixed RBF output is `--config.model.head=rbf`).

  python -m launch.train --config configs/lenet5_fashion_mnist.py --workdir workdirs/lenet5_fashion_mnist

AdamW 4e-3 (decoupled weight decay 0.05), 200 warmup steps then cosine, batch 128, random erasing with
p = 0.5 (Zhong et al. 2017, Alg. 1), label smoothing 0.1, an EMA of the weights (decay 0.999) for evaluation,
12,000 steps (26 epochs); no flips (Fashion-MNIST's shoes all face left).

Result (launch.classifier_table, 2026-12-03, 2-core CPU): 91.18% test top-1 in 4.8 minutes (seed 0); the
recipes tried on the way are in docs/performance.md.
"""
from configs import common


def get_config():
  c = common.classifier_config()
  c.experiment = "lenet5_fashion_mnist"
  c.dataset = "fashion_mnist"
  c.model.name = "lenet5"
  c.model.head = "dense"
  c.model.activation = "squash"  # or "relu"
  c.preprocess = "value_range(-1,1)|random_erasing(0.5)"  # Zhong et al. 2017, Alg. 1
  c.total_steps = 12_000
  c.batch_size = 128
  c.optimizer = common.optimizer("adamw", 4e-3, weight_decay=0.05, schedule="cosine", warmup_steps=200)
  c.label_smoothing = 0.1
  c.ema_decay = 0.999  # evaluate the moving average of the weights
  c.log_every = 200
  c.eval_every = 2_500
  c.checkpoint_every = 1_000
  return c
