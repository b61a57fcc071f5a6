"""Stacked-MNIST mode count (Metz et al. 2017, sec. 3.3.2; Lin et al. 2018, sec. 5.2, Table 3): a digit
classifier labels each colour channel of every sample; the digit triple is the sample's mode (of 1,000).
Reported: the number of modes hit (at least one sample) and KL(generated mode histogram || uniform), from
26,000 samples in PacGAN's protocol.
"""
from typing import Callable

import numpy as np

from gans.data import stacked_mnist as data
from gans.errors import UserError
from gans.metrics import features

NUM_MODES = 1000
NUM_SAMPLES = 26_000  # Lin et al. 2018, sec. 5.2


def mode_histogram(digits: np.ndarray) -> np.ndarray:
  """Counts [1000] of the digit triples [N, 3] (mode = 100 d_R + 10 d_G + d_B)."""
  digits = np.asarray(digits)
  if digits.ndim != 2 or digits.shape[1] != 3 or digits.min(initial=0) < 0 or digits.max(initial=0) > 9:
    raise UserError(f"mode_histogram takes digits [N, 3] in 0..9, got shape {digits.shape}")
  return np.bincount(100 * digits[:, 0] + 10 * digits[:, 1] + digits[:, 2], minlength=NUM_MODES)


def kl_to_uniform(counts: np.ndarray) -> float:
  """KL(p || uniform) = sum_k p_k log(p_k K) of the histogram `counts` over K modes (0 log 0 = 0)."""
  counts = np.asarray(counts, np.float64)
  p = counts / counts.sum()
  nonzero = p > 0
  return float(np.sum(p[nonzero] * np.log(p[nonzero] * len(counts))))


def classify_channels(samples: np.ndarray, classify: Callable[[np.ndarray], np.ndarray],
                      chunk: int = 2000) -> np.ndarray:
  """Digits [N, 3] of float samples [N, H, W, 3] in [-1, 1]: `classify` maps uint8 one-channel images
  [n, H, W, 1] to logits [n, 10]."""
  samples = np.asarray(samples)
  if samples.ndim != 4 or samples.shape[-1] != 3:
    raise UserError(f"stacked MNIST samples are [N, H, W, 3] images, got shape {samples.shape}")
  digits = np.zeros((len(samples), 3), np.int64)
  for i in range(0, len(samples), chunk):
    images = features.to_uint8(samples[i:i + chunk])
    for c in range(3):
      digits[i:i + chunk, c] = np.argmax(classify(images[..., c:c + 1]), axis=-1)
  return digits


def mode_digits(modes: np.ndarray) -> np.ndarray:
  """The digit triples [N, 3] of modes [N] (the inverse of mode = 100 d_R + 10 d_G + d_B)."""
  modes = np.asarray(modes)
  return np.stack([modes // 100, modes // 10 % 10, modes % 10], axis=1)


def digit_summary(digits: np.ndarray) -> dict:
  """{'modes': modes hit, 'kl': KL(mode histogram || uniform), 'channel_kl'} of digit triples [N, 3].

  `channel_kl` sums each channel's KL(digit histogram || uniform over 10): the part of `kl` that unbalanced
  digits explain; `kl` - `channel_kl` >= 0 is the channels' dependence (their multi-information)."""
  counts = mode_histogram(digits)
  channel_kl = sum(kl_to_uniform(np.bincount(digits[:, c], minlength=10)) for c in range(3))
  return {"modes": int(np.count_nonzero(counts)), "kl": kl_to_uniform(counts), "channel_kl": channel_kl}


def mode_count(samples: np.ndarray, classify: Callable[[np.ndarray], np.ndarray]) -> dict:
  """`digit_summary` of the samples as `classify` reads them, and 'num_samples'."""
  return {**digit_summary(classify_channels(samples, classify)), "num_samples": len(samples)}


def classifier(name: str = "shipped:mnist_5k") -> Callable[[np.ndarray], np.ndarray]:
  """The logits function of a digit classifier: an extractor name (`shipped:mnist_5k`, the LeNet-5 the library
  ships, or `classifier:<workdir>`) or the workdir of a run trained on mnist_5k (configs/lenet5_mnist_5k.py)."""
  extractor = features.get_extractor(name if ":" in name else f"classifier:{name}")
  if extractor.protocol.get("trained_on") != "mnist_5k":
    raise UserError(f"the mode count needs a digit classifier; {name} was trained on "
                    f"{extractor.protocol.get('trained_on')}")
  return lambda images: extractor(images)[1]


def real_floor(split: str, num: int, seed: int, classify: Callable[[np.ndarray], np.ndarray],
               data_dir: str | None = None) -> dict:
  """The metric's floor: `digit_summary` of `num` real stacked images of mnist_5k's `split` (drawn as batch 0 of
  the training stream `seed`) as `classify` reads them, their true labels' modes and KL, and the classifier's
  per-channel accuracy."""
  stacked, modes = data.sample_batch(data.source_digits(data_dir, split), seed, 0, num)
  digits = classify_channels(stacked.astype(np.float32) / 127.5 - 1.0, classify)  # in [-1, 1] as G's samples
  labels = mode_digits(modes)
  true = digit_summary(labels)
  return {"real": split, **digit_summary(digits), "num_samples": num, "true_modes": true["modes"],
          "true_kl": true["kl"], "channel_accuracy": float(np.mean(digits == labels))}
