"""The 2-D Gaussian mixtures of PacGAN (Lin et al. 2018, sec. 5.1), after VEEGAN (Srivastava et al. 2017).

- `ring8`: 8 modes evenly spaced on the unit circle (mode k at angle 2*pi*k/8), std 0.01.
- `grid25`: 25 modes on {-4, -2, 0, 2, 4}^2 (row-major: x slow, y fast), std 0.05.
Every mode has the same weight and an isotropic covariance std^2 * I.
"""
import numpy as np

from gans.errors import UserError

MIXTURES = ("ring8", "grid25")

_STD = {"ring8": 0.01, "grid25": 0.05}


def _check(name: str) -> None:
  if name not in MIXTURES:
    raise UserError(f"unknown 2-D mixture {name!r}; known: {', '.join(MIXTURES)}")


def modes(name: str) -> np.ndarray:
  """The K mode centres of mixture `name`, float64 [K, 2]."""
  _check(name)
  if name == "ring8":
    angles = 2 * np.pi * np.arange(8) / 8
    return np.stack([np.cos(angles), np.sin(angles)], axis=1)
  axis = np.arange(-4.0, 5.0, 2.0)
  return np.stack(np.meshgrid(axis, axis, indexing="ij"), axis=-1).reshape(-1, 2)


def mode_std(name: str) -> float:
  """The per-coordinate standard deviation of every mode of mixture `name`."""
  _check(name)
  return _STD[name]


def sample_batch(name: str, seed: int, step: int, batch_size: int) -> tuple[np.ndarray, np.ndarray]:
  """Batch `step` of the data stream `seed`: a pure function of its arguments (so resumed runs match).

  Returns:
    points float32 [B, 2] and, for each point, the index of the mode it was drawn from, int32 [B].
  """
  centres = modes(name)
  if batch_size <= 0 or seed < 0 or step < 0:
    raise UserError(f"sample_batch needs batch_size > 0, seed >= 0, step >= 0; "
                    f"got {batch_size}, {seed}, {step}")
  rng = np.random.default_rng([seed, step])
  which = rng.integers(0, len(centres), size=batch_size)
  points = centres[which] + mode_std(name) * rng.standard_normal((batch_size, 2))
  return points.astype(np.float32), which.astype(np.int32)
