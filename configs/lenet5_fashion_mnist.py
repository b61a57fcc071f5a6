"""LeNet-5 (LeCun et al. 1998) on Fashion-MNIST: 28x28 edge-padded to 32x32, a trainable 84 -> 10 output.

  python -m launch.train --config configs/lenet5_fashion_mnist.py --workdir workdirs/lenet5_fashion_mnist

Adam 2e-3, 200 warmup steps then cosine, batch 128, no augmentation, 4,000 steps (8.5 epochs). The
paper's fixed RBF output is `--config.model.head=rbf` (it trained slower here: 85.0% after 2,000 steps
with flips, against 87.5% for the dense head without).

Result (2026-11-23, 2-core CPU shared with other jobs, load average ~12): test top-1 88.77%, top-5
99.83%, loss 0.312, in 5.8 minutes wall (curve: 85.2% at step 1k, 87.5% at 2k, 88.6% at 3k). Short
of the 91% target. That run used C3 as one dense 6->16 conv scattered from the table's 1,516
parameters, which lenet.py now does (the grouped-conv C3 made a step ~50x slower on XLA:CPU).
"""
from configs import common


def get_config():
  c = common.classifier_config()
  c.experiment = "lenet5_fashion_mnist"
  c.dataset = "fashion_mnist"
  c.model.name = "lenet5"
  c.model.head = "dense"
  c.model.activation = "squash"  # or "relu"
  c.preprocess = "value_range(-1,1)"
  c.total_steps = 4_000
  c.batch_size = 128
  c.optimizer = common.optimizer("adam", 2e-3, schedule="cosine", warmup_steps=200)
  c.label_smoothing = 0.0
  c.log_every = 200
  c.eval_every = 1_000
  c.checkpoint_every = 1_000
  return c
