r"""LeNet-5 (LeCun et al. 1998) on Fashion-MNIST: 28x28 edge-padded to 32x32, a trainable 84 -> 10 output.

  python -m launch.train --config configs/lenet5_fashion_mnist.py --workdir workdirs/lenet5_fashion_mnist

AdamW 4e-3 (decoupled weight decay 0.05), 200 warmup steps then cosine, batch 128, random erasing with
p = 0.5, label smoothing 0.1, an EMA of the weights (decay 0.999) for evaluation, 12,000 steps (26 epochs);
the paper's scaled tanh ("squash"). The paper's fixed RBF output is `--config.model.head=rbf` (it trained
slower here: 85.0% after 2,000 steps with flips, against 87.5% for the dense head without).

Test top-1 without flip averaging, seed 0, 12,000 steps unless noted:
| recipe | test % |
|---|---|
| Adam, no erasing or smoothing, 10,000 steps (2026-11-23; 2026-12-02) | 89.61, 89.62 |
| + dropout 0.3 on C5 and F6 | 89.65 |
| AdamW (weight decay 0.05) + label smoothing 0.1, 10,000 steps | 89.90 |
| random erasing (`value_range(-1,1)\|random_erasing(0.5)`, Zhong et al. 2017) | 90.27 |
| AdamW 2e-3 + smoothing + erasing | 90.66 (per-example augmentation), 90.57 (batched) |
| the same + EMA 0.999 | 90.61 |
| the same + EMA 0.999 + weight decay 0.1 | 90.69 |
| AdamW 4e-3 + smoothing + erasing + EMA 0.999 (this config) | 91.21 (10,000 steps: 90.99) |
| this config, seeds 1 and 2 | 90.71, 90.63 (mean of seeds 0-2: 90.85) |
| this config, train step without YNNPACK fusions (2026-12-03), seeds 0, 1, 2 | 91.18, 91.16, 90.49 (mean 90.94) |
Below the 89.6% baseline: ReLU instead of squash 88.11%; 2-pixel random crops 89.25%; crops + flips 87.3%
at 6,000 of 12,000 steps. Flip averaging at test time costs 6 points (Fashion-MNIST's shoes all face
left, so a model trained without flips misreads mirrored ones). Wall-clock for this config is in the
README's classifier table (`python -m launch.classifier_table --classifier_configs lenet5_fashion_mnist`).
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
