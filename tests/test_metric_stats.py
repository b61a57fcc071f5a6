"""Tests for gans.metrics.stats against closed forms, scipy formulas and brute-force loops."""

import numpy as np
import pytest
import scipy.linalg
import scipy.stats

from gans.errors import UserError
from gans.metrics import stats


def _random_cov(rng, d):
  a = rng.normal(size=(d, d))
  return a @ a.T / d + 0.1 * np.eye(d)


# ---------------------------------------------------------------- FID

def test_fid_matches_scipy_sqrtm_formula():
  rng = np.random.default_rng(0)
  f1 = rng.normal(size=(300, 12)) @ rng.normal(size=(12, 12))
  f2 = rng.normal(size=(250, 12)) @ rng.normal(size=(12, 12)) + 0.5
  mu1, mu2 = f1.mean(0), f2.mean(0)
  s1, s2 = np.cov(f1, rowvar=False), np.cov(f2, rowvar=False)
  covmean = scipy.linalg.sqrtm(s1 @ s2).real
  expected = np.sum((mu1 - mu2) ** 2) + np.trace(s1 + s2 - 2 * covmean)
  assert stats.frechet_distance(mu1, s1, mu2, s2) == pytest.approx(expected, rel=1e-6)
  assert stats.fid_from_features(f1, f2) == pytest.approx(expected, rel=1e-6)


def test_fid_closed_form_diagonal_covariances():
  mu1, mu2 = np.array([0.0, 1.0, -2.0]), np.array([1.0, 1.0, 0.5])
  s1, s2 = np.array([1.0, 4.0, 0.25]), np.array([9.0, 1.0, 0.25])
  # ||mu1 - mu2||^2 = 1 + 0 + 6.25; per dim s1 + s2 - 2 sqrt(s1 s2) = 4, 1, 0.
  fid = stats.frechet_distance(mu1, np.diag(s1), mu2, np.diag(s2))
  assert fid == pytest.approx(7.25 + 5.0, rel=1e-12)


def test_fid_commuting_covariances():
  rng = np.random.default_rng(1)
  q, _ = np.linalg.qr(rng.normal(size=(6, 6)))
  a, b = rng.uniform(0.1, 3.0, 6), rng.uniform(0.1, 3.0, 6)
  mu1, mu2 = rng.normal(size=6), rng.normal(size=6)
  fid = stats.frechet_distance(mu1, q @ np.diag(a) @ q.T, mu2, q @ np.diag(b) @ q.T)
  expected = np.sum((mu1 - mu2) ** 2) + np.sum(a + b - 2 * np.sqrt(a * b))
  assert fid == pytest.approx(expected, rel=1e-10)


def test_fid_identical_sets_is_zero():
  f = np.random.default_rng(2).normal(size=(500, 16))
  assert abs(stats.fid_from_features(f, f)) < 1e-9


def test_fid_singular_covariances_use_eps_offset_and_warn():
  rng = np.random.default_rng(3)
  f1, f2 = rng.normal(size=(5, 8)), rng.normal(size=(6, 8)) + 1.0
  with pytest.warns(UserWarning, match="singular"):
    fid = stats.fid_from_features(f1, f2, eps=1e-6)
  s1 = np.cov(f1, rowvar=False) + 1e-6 * np.eye(8)
  s2 = np.cov(f2, rowvar=False) + 1e-6 * np.eye(8)
  expected = (np.sum((f1.mean(0) - f2.mean(0)) ** 2)
              + np.trace(s1 + s2 - 2 * scipy.linalg.sqrtm(s1 @ s2).real))
  assert np.isfinite(fid) and fid == pytest.approx(expected, rel=1e-6)
  # Identical singular sets still give ~0 (sqrt of eigenvalues ~eps^2 costs some digits).
  with pytest.warns(UserWarning):
    assert abs(stats.fid_from_features(f1, f1)) < 1e-7


def test_fid_singular_closed_form_with_and_without_offset():
  s1, s2 = np.array([1.0, 0.0]), np.array([4.0, 9.0])  # S1 is singular.
  zero = np.zeros(2)
  # Exact (eps=0, symmetric-root fallback): (1 + 4 - 2*2) + (0 + 9 - 0) = 10.
  assert stats.frechet_distance(zero, np.diag(s1), zero, np.diag(s2), eps=0.0) == pytest.approx(
      10.0, rel=1e-12)
  e = 1e-4
  t1, t2 = s1 + e, s2 + e
  offset = np.sum(t1 + t2 - 2 * np.sqrt(t1 * t2))  # ~10 - 2 sqrt(9e-4): the O(sqrt(eps)) shift.
  assert stats.frechet_distance(zero, np.diag(s1), zero, np.diag(s2), eps=e) == pytest.approx(
      offset, rel=1e-10)
  assert abs(offset - 10.0) > 0.05
  # A non-singular pair is not offset: min eigenvalue 0.5 > eps.
  assert stats.frechet_distance(zero, np.diag([0.5, 2.0]), zero, np.diag([2.0, 0.5]),
                                eps=e) == pytest.approx(2 * (2.5 - 2.0), rel=1e-12)


def test_fid_bad_inputs():
  rng = np.random.default_rng(4)
  with pytest.raises(UserError, match="at least 2"):
    stats.fid_from_features(rng.normal(size=(1, 3)), rng.normal(size=(10, 3)))
  with pytest.raises(UserError, match="dimension"):
    stats.fid_from_features(rng.normal(size=(10, 3)), rng.normal(size=(10, 4)))
  with pytest.raises(UserError, match="2-D"):
    stats.fid_from_features(rng.normal(size=(10,)), rng.normal(size=(10, 4)))
  with pytest.raises(UserError, match="covariances"):
    stats.frechet_distance(np.zeros(3), np.eye(2), np.zeros(3), np.eye(3))


# ---------------------------------------------------------------- IS

def test_inception_score_extremes():
  k = 10
  one_hot = np.eye(k)[np.repeat(np.arange(k), 7)]  # Confident and uniform over classes.
  mean, std = stats.inception_score(one_hot, splits=1)
  assert mean == pytest.approx(k, rel=1e-12) and std == 0.0
  same = np.tile(np.random.default_rng(5).dirichlet(np.ones(k)), (50, 1))
  mean, std = stats.inception_score(same, splits=5)
  assert mean == pytest.approx(1.0, abs=1e-12) and std == pytest.approx(0.0, abs=1e-12)


def test_inception_score_split_protocol_against_scipy_entropy():
  probs = np.random.default_rng(6).dirichlet(0.3 * np.ones(4), size=23)
  mean, std = stats.inception_score(probs, splits=3, seed=11)
  shuffled = probs[np.random.default_rng(11).permutation(23)]
  scores = []
  for part in np.array_split(shuffled, 3):
    marginal = part.mean(0)
    scores.append(np.exp(np.mean([scipy.stats.entropy(p, marginal) for p in part])))
  assert mean == pytest.approx(np.mean(scores), rel=1e-10)
  assert std == pytest.approx(np.std(scores), rel=1e-8)


def test_inception_score_bad_inputs():
  with pytest.raises(UserError, match="summing to 1"):
    stats.inception_score(np.ones((4, 3)))
  with pytest.raises(UserError, match="splits"):
    stats.inception_score(np.eye(3), splits=4)


# ---------------------------------------------------------------- KID

def _kid_loop(x, y):
  """Unbiased MMD^2 with k(a, b) = (a.b / d + 1)^3, written as explicit double loops."""
  m, d = x.shape
  k = lambda a, b: (float(np.dot(a, b)) / d + 1.0) ** 3
  xx = sum(k(x[i], x[j]) for i in range(m) for j in range(m) if i != j) / (m * (m - 1))
  yy = sum(k(y[i], y[j]) for i in range(m) for j in range(m) if i != j) / (m * (m - 1))
  xy = sum(k(x[i], y[j]) for i in range(m) for j in range(m)) / (m * m)
  return xx + yy - 2 * xy


def test_kid_matches_loop_formula_on_whole_sets():
  rng = np.random.default_rng(7)
  x, y = rng.normal(size=(15, 4)), rng.normal(size=(15, 4)) * 1.5 + 0.3
  # A subset of size n drawn without replacement is a permutation; MMD^2 does not depend on order.
  mean, std = stats.kernel_inception_distance(x, y, num_subsets=2, subset_size=100)
  assert mean == pytest.approx(_kid_loop(x, y), rel=1e-10) and std < 1e-12


def test_kid_subset_protocol():
  rng = np.random.default_rng(8)
  x, y = rng.normal(size=(20, 3)), rng.normal(size=(25, 3)) + 0.5
  mean, std = stats.kernel_inception_distance(x, y, num_subsets=4, subset_size=6, seed=3)
  pick = np.random.default_rng(3)
  values = [_kid_loop(x[pick.choice(20, 6, replace=False)], y[pick.choice(25, 6, replace=False)])
            for _ in range(4)]
  assert mean == pytest.approx(np.mean(values), rel=1e-10)
  assert std == pytest.approx(np.std(values), rel=1e-8)
  assert std > 0


# ------------------------------------------------------- precision/recall, density/coverage

def _brute_force(real, fake, k):
  """Direct per-pair loops with np.linalg.norm."""
  def radii(x):
    return np.array([np.sort([np.linalg.norm(a - b) for b in x])[k] for a in x])
  r_real, r_fake = radii(real), radii(fake)
  inside = np.array([[np.linalg.norm(f - r) <= rr for r, rr in zip(real, r_real)] for f in fake])
  precision = np.mean(inside.any(1))
  recall = np.mean([any(np.linalg.norm(r - f) <= rf for f, rf in zip(fake, r_fake)) for r in real])
  return precision, recall, inside.sum() / (k * len(fake)), np.mean(inside.any(0))


@pytest.mark.parametrize("block_entries", [1 << 23, 50])  # 50 forces many row blocks.
def test_prdc_match_brute_force(monkeypatch, block_entries):
  monkeypatch.setattr(stats, "_BLOCK_ENTRIES", block_entries)
  rng = np.random.default_rng(9)
  real, fake = rng.normal(size=(40, 5)), rng.normal(size=(30, 5)) * 1.3 + 0.4
  p, r, d, c = _brute_force(real, fake, k=3)
  assert stats.precision_recall(real, fake, k=3) == pytest.approx((p, r), abs=1e-12)
  assert stats.density_coverage(real, fake, k=3) == pytest.approx((d, c), abs=1e-12)
  assert 0 < p < 1 and 0 < r < 1 and 0 < c < 1  # The example is not degenerate.


def test_prdc_hand_made_1d():
  real = np.array([[0.0], [1.0], [3.0], [6.0]])
  fake = np.array([[2.0], [4.5], [12.0]])
  # k=2 real radii: 3, 2, 3, 5. Fake 2 lies in all 4 balls, 4.5 in those of 3 and 6, 12 in none.
  # Fake radii: 10, 7.5, 10, so every real sample is covered by the fake manifold.
  assert stats.precision_recall(real, fake, k=2) == pytest.approx((2 / 3, 1.0))
  assert stats.density_coverage(real, fake, k=2) == pytest.approx(((4 + 2 + 0) / (2 * 3), 1.0))
  # k=1 on 0..3 (radii 1) against fakes 0.5 and 10: 0.5 lies in the balls of 0 and 1 only.
  real = np.arange(4.0)[:, None]
  fake = np.array([[0.5], [10.0]])
  assert stats.precision_recall(real, fake, k=1) == pytest.approx((0.5, 1.0))
  assert stats.density_coverage(real, fake, k=1) == pytest.approx((1.0, 0.5))


def test_prdc_identical_and_disjoint_sets():
  x = np.random.default_rng(10).normal(size=(60, 8))
  assert stats.precision_recall(x, x.copy(), k=3) == (1.0, 1.0)
  assert stats.density_coverage(x, x.copy(), k=5)[1] == 1.0
  far = x + 1e3
  assert stats.precision_recall(x, far, k=3) == (0.0, 0.0)
  assert stats.density_coverage(x, far, k=5) == (0.0, 0.0)


def test_prdc_bad_k():
  x = np.zeros((4, 2)) + np.arange(4)[:, None]
  with pytest.raises(UserError, match="k must be"):
    stats.precision_recall(x, x, k=4)
  with pytest.raises(UserError, match="k must be"):
    stats.density_coverage(x, x, k=0)
