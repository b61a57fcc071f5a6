"""CIFAR ResNet-20 (He et al. 2016, sec. 4.2) on Fashion-MNIST within a 30-minute CPU budget.

  python -m launch.train --config configs/resnet20_fashion_mnist.py --workdir workdirs/resnet20_fashion_mnist

SGD + Nesterov 0.1, weight decay 5e-4 on kernels, 1 epoch warmup then cosine, label smoothing 0.1, batch
128, 2-pixel random crops; no flips (Fashion-MNIST's shoes all face left: flips cost LeNet-5 about a point
at equal steps) and no random erasing (it pays off over hundreds of epochs, not the ~13 that fit here).
Its trained weights are also the in-domain feature extractor for FCD (README, "evaluate").

Measured 2026-11-23, both cores to itself (`python -m launch.classifier_table --configs resnet20_fashion_mnist`):
test top-1 94.20%, top-5 99.90%, in 31.6 minutes wall (6,097 steps at ~3.3 steps/s, ~300 ms per step; test
accuracy 86.5 / 89.7 / 90.9 / 92.1 / 93.3 / 94.2 / 94.2% after epochs 2 / 4 / 6 / 8 / 10 / 12 / 13). Short of
the issue's 94.5% within 30 minutes: the 16-64-channel convolutions run at ~50 GFLOP/s on XLA:CPU.

On the later machine (about half as fast), within 30 minutes, test top-1:
| run | test % | minutes |
|---|---|---|
| this recipe, 8 epochs (`--config.total_steps=3752`, 2026-12-02) | 93.34 | 30.6 |
| 8 epochs, 2x wider (32-64-128) with a stride-2 stem: stages on 14/7/4 maps, 1.07M params, the same FLOPs; its step 431 against 607 ms in one process (2026-12-03) | 92.86 | 24.8 |
| the 8-epoch checkpoint, test-time averaging over 5 views shifted by 0 / +-1 pixel (edge-padded); +-2 pixels | 93.29; 93.17 | - |
The wide low-resolution net lost more per epoch than its speed bought back, and shift averaging did not help
(nor on LeNet-5: 91.18 / 91.16 / 90.49% -> 90.99 / 90.99 / 90.54% for seeds 0-2), so neither was kept.
Known flaw, left alone because the recorded run and the FCD extractor used it: `random_crop` pads after
`value_range(-1,1)`, so the 2-pixel borders are 0 (mid-grey), not the -1 background; putting `random_crop(28,2)`
first pads with black.
"""
from configs import common


def get_config():
  c = common.fashion_mnist_classifier("resnet20_fashion_mnist", "resnet20", epochs=13, learning_rate=0.1,
                                      weight_decay=5e-4)
  c.preprocess = "value_range(-1,1)|random_crop(28,2)"
  c.xla_cpu_ynn_fusions = "reduce,eltwise"  # 468 -> 438 ms per step here (docs/performance.md, 2026-12-03)
  return c
