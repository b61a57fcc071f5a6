"""Mode coverage of samples from a mixture of isotropic Gaussians (PacGAN/VEEGAN protocol for 2-D data).

Lin et al. 2018 (PacGAN), sec. 5.1, after Srivastava et al. 2017 (VEEGAN), sec. 5: draw 2,500 samples;
a sample is high quality if it lies within 3 standard deviations of its nearest mode; a mode is captured
if at least one high-quality sample has it as nearest mode.
"""
import numpy as np

from gans.errors import UserError


def mode_coverage(samples: np.ndarray, modes: np.ndarray, std: float) -> dict:
  """Modes captured, fraction of high-quality samples, and reverse KL of the mode histogram.

  Assignment: every sample goes to its nearest mode in Euclidean distance (ties: the lower index).
  It is high quality if that distance is below 3 * std (strict, as in PacGAN's released code, which
  measures distance in units of std).

  Reverse KL: KL(P_gen || P_true) = sum_k p_k log(p_k * K), where p_k is the fraction of ALL samples
  whose nearest mode is k (PacGAN: "the induced distribution of generated samples over modes") and the
  true distribution is uniform over the K modes. Empty bins contribute 0 (0 log 0 = 0); the uniform
  reference has no empty bin, so the value is always finite: 0 for a perfectly balanced histogram,
  log K when every sample falls on one mode. Natural log (nats).

  Args:
    samples: generated points [N, D] (D = 2 for ring8/grid25).
    modes: mode centres [K, D].
    std: per-coordinate standard deviation of each mode.

  Returns:
    {'modes_captured': int, 'high_quality': float in [0, 1], 'reverse_kl': float >= 0}.
  """
  x = np.asarray(samples, np.float64)
  mu = np.asarray(modes, np.float64)
  if x.ndim != 2 or mu.ndim != 2 or x.shape[1] != mu.shape[1] or len(x) == 0 or len(mu) == 0:
    raise UserError(f"mode_coverage needs samples [N, D] and modes [K, D] with N, K > 0; got "
                    f"{x.shape} and {mu.shape}")
  if not std > 0:
    raise UserError(f"mode_coverage needs std > 0; got {std}")
  num_modes = len(mu)
  dist = np.linalg.norm(x[:, None, :] - mu[None, :, :], axis=-1)  # [N, K]
  nearest = np.argmin(dist, axis=1)
  high_quality = dist[np.arange(len(x)), nearest] < 3.0 * std
  captured = np.unique(nearest[high_quality]).size
  p = np.bincount(nearest, minlength=num_modes) / len(x)
  nonzero = p > 0
  reverse_kl = float(np.sum(p[nonzero] * np.log(p[nonzero] * num_modes)))
  return {"modes_captured": int(captured), "high_quality": float(high_quality.mean()),
          "reverse_kl": reverse_kl}
