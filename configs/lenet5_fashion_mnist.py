"""LeNet-5 (LeCun et al. 1998) on Fashion-MNIST: 28x28 edge-padded to 32x32, a trainable 84 -> 10 output.

  python -m launch.train --config configs/lenet5_fashion_mnist.py --workdir workdirs/lenet5_fashion_mnist

AdamW 2e-3 (decoupled weight decay 0.05), 200 warmup steps then cosine, batch 128, random erasing with
p = 0.5, label smoothing 0.1, 12,000 steps (26 epochs); the paper's scaled tanh ("squash"). This recipe
measured 90.66% (2026-12-02, below); the paper-plain one (Adam, no erasing or smoothing, 10,000 steps)
89.62%. The paper's fixed RBF output is `--config.model.head=rbf` (it trained slower here:
85.0% after 2,000 steps with flips, against 87.5% for the dense head without).

Measured 2026-11-23 (2-core CPU, one core each, other jobs on the other core), test top-1 without flip
averaging: 89.61% after 10,000 steps (~4.5 minutes at ~40 steps/s); train batches reach ~95%, so it
overfits rather than underfits. Re-measured 2026-12-02: 89.62% (same config); dropout 0.3 on C5
and F6 (`--config.model.dropout=0.3`) 89.65%, no gain. Measured 2026-12-02 on a slower machine (2048^2
matmul 150 GFLOP/s against 330 before; ~18 steps/s with two runs sharing the cores): AdamW
(weight decay 0.05) with label smoothing 0.1, 10,000 steps: 89.90%; random erasing
(`value_range(-1,1)|random_erasing(0.5)`, Zhong et al. 2017) for 12,000 steps: 90.27%; both together
(this config): 90.66%, 11.5 minutes sharing the cores with the test suite (~35 ms per step alone on
this machine, so ~7 minutes; ~5 minutes at the 40 steps/s of the faster machine).
Tried, all below the 89.6% baseline: ReLU instead of squash 88.11%;
2-pixel random crops (12,000 steps) 89.25%; crops + flips 87.3% at 6,000 of 12,000 steps; flip averaging at test time costs
6 points (Fashion-MNIST's shoes all face left, so a model trained without flips misreads mirrored ones).
With C5 as one matmul (layers.whole_input_conv, 2026-12-02) the same run took 8.4 minutes instead of 9.2
(`python -m launch.classifier_table --classifier_configs lenet5_fashion_mnist`, both cores), again 90.66%.
The issue's 91% in 5 minutes is not reached by this 1998 architecture here (best 90.66%).
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
  c.optimizer = common.optimizer("adamw", 2e-3, weight_decay=0.05, schedule="cosine", warmup_steps=200)
  c.label_smoothing = 0.1
  c.log_every = 200
  c.eval_every = 2_500
  c.checkpoint_every = 1_000
  return c
