"""2-D toy mixtures (ring8, grid25) and the PacGAN mode-coverage metrics, against hand-computed answers."""
import itertools
import math

import numpy as np
import pytest

from gans.data import toy
from gans.errors import UserError
from gans.metrics.mode_coverage import mode_coverage

# ---------------------------------------------------------------------------------------- mixtures


def test_ring8_modes_and_std():
  m = toy.modes("ring8")
  assert m.shape == (8, 2)
  np.testing.assert_allclose(np.linalg.norm(m, axis=1), 1.0, atol=1e-12)
  np.testing.assert_allclose(m[0], [1.0, 0.0], atol=1e-12)
  np.testing.assert_allclose(m[2], [0.0, 1.0], atol=1e-12)
  # Neighbours are 45 degrees apart: chord 2 sin(pi/8).
  np.testing.assert_allclose(np.linalg.norm(m - np.roll(m, 1, axis=0), axis=1), 2 * math.sin(math.pi / 8))
  assert toy.mode_std("ring8") == 0.01


def test_grid25_modes_and_std():
  m = toy.modes("grid25")
  assert m.shape == (25, 2)
  want = set(itertools.product([-4.0, -2.0, 0.0, 2.0, 4.0], repeat=2))
  assert {tuple(p) for p in m.tolist()} == want
  assert toy.mode_std("grid25") == 0.05


@pytest.mark.parametrize("name", toy.MIXTURES)
def test_sample_statistics(name):
  n = 100_000
  points, which = toy.sample_batch(name, seed=3, step=0, batch_size=n)
  centres, std = toy.modes(name), toy.mode_std(name)
  k = len(centres)
  assert points.shape == (n, 2) and points.dtype == np.float32
  assert which.shape == (n,) and which.dtype == np.int32
  counts = np.bincount(which, minlength=k)
  assert len(counts) == k
  # Uniform over modes: each count within 5 binomial sds of n/k.
  assert np.all(np.abs(counts - n / k) < 5 * math.sqrt(n * (1 / k) * (1 - 1 / k)))
  for j in range(k):
    resid = points[which == j].astype(np.float64) - centres[j]
    np.testing.assert_allclose(resid.mean(0), 0.0, atol=5 * std / math.sqrt(counts[j]))
    np.testing.assert_allclose(resid.std(0), std, rtol=0.05)
  # Each point is closest to the mode it was drawn from (modes are >> 3 std apart).
  nearest = np.argmin(np.linalg.norm(points[:, None] - centres[None], axis=-1), axis=1)
  np.testing.assert_array_equal(nearest, which)


def test_sample_batch_is_a_pure_function_of_seed_and_step():
  a = toy.sample_batch("grid25", seed=7, step=12, batch_size=64)
  toy.sample_batch("grid25", seed=7, step=13, batch_size=64)  # other calls in between change nothing
  b = toy.sample_batch("grid25", seed=7, step=12, batch_size=64)
  np.testing.assert_array_equal(a[0], b[0])
  np.testing.assert_array_equal(a[1], b[1])
  c = toy.sample_batch("grid25", seed=7, step=13, batch_size=64)
  d = toy.sample_batch("grid25", seed=8, step=12, batch_size=64)
  assert not np.array_equal(a[0], c[0]) and not np.array_equal(a[0], d[0])


def test_bad_names_and_sizes():
  with pytest.raises(UserError, match="unknown 2-D mixture 'ring9'.*ring8, grid25"):
    toy.modes("ring9")
  with pytest.raises(UserError):
    toy.mode_std("spiral")
  with pytest.raises(UserError):
    toy.sample_batch("mnist", 0, 0, 4)
  with pytest.raises(UserError, match="batch_size > 0"):
    toy.sample_batch("ring8", 0, 0, 0)


# ---------------------------------------------------------------------------------------- mode coverage


@pytest.mark.parametrize("name", toy.MIXTURES)
def test_all_modes_balanced(name):
  centres, std = toy.modes(name), toy.mode_std(name)
  rng = np.random.default_rng(0)
  samples = np.repeat(centres, 10, axis=0) + rng.uniform(-std, std, size=(10 * len(centres), 2))  # < 1.5 std
  r = mode_coverage(samples, centres, std)
  assert r == {"modes_captured": len(centres), "high_quality": 1.0,
               "reverse_kl": pytest.approx(0.0, abs=1e-12)}


@pytest.mark.parametrize("name", toy.MIXTURES)
def test_one_mode(name):
  centres, std = toy.modes(name), toy.mode_std(name)
  samples = np.tile(centres[3], (50, 1)) + 0.5 * std
  r = mode_coverage(samples, centres, std)
  assert r["modes_captured"] == 1
  assert r["high_quality"] == 1.0
  assert r["reverse_kl"] == pytest.approx(math.log(len(centres)), rel=1e-12)  # KL(delta || uniform) = log K


def test_half_far_away():
  centres, std = toy.modes("ring8"), 0.01
  samples = np.concatenate([centres, np.tile([10.0, 0.0], (8, 1))])  # 8 on the modes, 8 far (nearest: mode 0)
  r = mode_coverage(samples, centres, std)
  assert r["modes_captured"] == 8
  assert r["high_quality"] == 0.5
  # Histogram over nearest modes: mode 0 has 9/16, the other seven 1/16 each.
  want = 9 / 16 * math.log(9 / 16 * 8) + 7 * (1 / 16) * math.log(1 / 16 * 8)
  assert r["reverse_kl"] == pytest.approx(want, rel=1e-12)


def test_far_samples_capture_nothing():
  centres = toy.modes("grid25")
  samples = np.array([[1.0, 1.0], [-3.0, 3.0], [100.0, -100.0]])  # halfway between modes, and far out
  r = mode_coverage(samples, centres, 0.05)
  assert r["modes_captured"] == 0 and r["high_quality"] == 0.0


def test_three_std_threshold():
  centres = np.array([[0.0, 0.0], [10.0, 0.0]])
  samples = np.array([[0.0, 2.9], [10.0, -3.1], [2.1, 2.1]])  # 2.9 std in; 3.1 std out; 2.97 std in
  r = mode_coverage(samples, centres, 1.0)
  assert r["high_quality"] == pytest.approx(2 / 3)
  assert r["modes_captured"] == 1
  want = 2 / 3 * math.log(2 / 3 * 2) + 1 / 3 * math.log(1 / 3 * 2)  # bins: mode 0 twice, mode 1 once
  assert r["reverse_kl"] == pytest.approx(want, rel=1e-12)


def test_true_mixture_matches_rayleigh_fraction():
  # For an isotropic 2-D Gaussian P(|x - mu| < 3 std) = 1 - exp(-9/2) = 0.98889 (Rayleigh distribution).
  points, _ = toy.sample_batch("grid25", seed=0, step=0, batch_size=20_000)
  r = mode_coverage(points, toy.modes("grid25"), toy.mode_std("grid25"))
  assert r["modes_captured"] == 25
  assert r["high_quality"] == pytest.approx(1 - math.exp(-4.5), abs=0.004)  # ~5 binomial sds
  assert 0 <= r["reverse_kl"] < 0.005  # E ~ (K - 1) / (2N) = 6e-4 for a fair sample


def test_mode_coverage_bad_input():
  with pytest.raises(UserError):
    mode_coverage(np.zeros((4, 3)), np.zeros((2, 2)), 1.0)
  with pytest.raises(UserError):
    mode_coverage(np.zeros((0, 2)), np.zeros((2, 2)), 1.0)
  with pytest.raises(UserError, match="std > 0"):
    mode_coverage(np.zeros((4, 2)), np.zeros((2, 2)), 0.0)
