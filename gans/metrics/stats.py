"""Sample-quality statistics on extracted features or class probabilities (numpy/scipy, float64).

Frechet distance (FID), Inception Score, Kernel Inception Distance, k-NN precision/recall and
density/coverage. These functions only do the statistics: which feature extractor, image resizing
and number of samples were used is the protocol the caller must record next to the numbers.
Pairwise distances are computed in row blocks, so 10k x 10k sets fit in memory.
"""

import warnings

import numpy as np

from gans.errors import UserError

# Row-block size target for pairwise-distance matrices: ~2^23 float64 entries (64 MB) per block.
_BLOCK_ENTRIES = 1 << 23


def _features(x: np.ndarray, name: str, min_rows: int = 2) -> np.ndarray:
  x = np.asarray(x, np.float64)
  if x.ndim != 2:
    raise UserError(f"{name} must be a 2-D array [N, D], got shape {x.shape}.")
  if x.shape[0] < min_rows:
    raise UserError(f"{name} needs at least {min_rows} rows, got {x.shape[0]}.")
  if not np.all(np.isfinite(x)):
    raise UserError(f"{name} contains NaN or inf.")
  return x


def _same_dim(a: np.ndarray, b: np.ndarray) -> None:
  if a.shape[1] != b.shape[1]:
    raise UserError(f"Feature sets differ in dimension: {a.shape[1]} vs {b.shape[1]}.")


def _cholesky_or_none(m: np.ndarray) -> np.ndarray | None:
  try:
    return np.linalg.cholesky(m)
  except np.linalg.LinAlgError:
    return None


def _psd_sqrt(sigma: np.ndarray) -> np.ndarray:
  """Symmetric square root of a symmetric PSD matrix via eigh (round-off negatives clipped to 0)."""
  w, v = np.linalg.eigh(sigma)
  return (v * np.sqrt(np.clip(w, 0.0, None))) @ v.T


def frechet_distance(mu1: np.ndarray, sigma1: np.ndarray, mu2: np.ndarray, sigma2: np.ndarray,
                     eps: float = 1e-6) -> float:
  """Frechet distance between N(mu1, sigma1) and N(mu2, sigma2) (Heusel et al. 2017, eq. 6).

  d^2 = ||mu1 - mu2||^2 + Tr(S1 + S2 - 2 (S1 S2)^{1/2}). With any factor S1 = R R^T (Cholesky, or
  the symmetric root when S1 is singular), S1 S2 has the same eigenvalues as the symmetric PSD
  matrix R^T S2 R, so Tr((S1 S2)^{1/2}) is the sum of square roots of its eigenvalues: one eigvalsh
  instead of scipy's non-symmetric `sqrtm` (~10x slower at D=2048, with spurious imaginary parts).

  Near-singular covariances: when either has an eigenvalue below eps (S - eps*I is not positive
  definite, e.g. fewer samples than dimensions), eps*I is added to both, as pytorch-fid and TTUR
  do when `sqrtm` fails. This moves the value by O(sqrt(eps)) per null dimension; eps=0 disables it.

  Returns:
    The squared Frechet distance (what papers report as FID), as a Python float.
  """
  mu1, mu2 = np.atleast_1d(np.asarray(mu1, np.float64)), np.atleast_1d(np.asarray(mu2, np.float64))
  sigma1 = np.atleast_2d(np.asarray(sigma1, np.float64))
  sigma2 = np.atleast_2d(np.asarray(sigma2, np.float64))
  d = mu1.shape[0]
  if mu1.shape != (d,) or mu2.shape != (d,) or sigma1.shape != (d, d) or sigma2.shape != (d, d):
    raise UserError(f"Frechet distance needs means [D] and covariances [D, D]; got {mu1.shape}, "
                    f"{sigma1.shape}, {mu2.shape}, {sigma2.shape}.")
  sigma1 = (sigma1 + sigma1.T) / 2
  sigma2 = (sigma2 + sigma2.T) / 2
  if eps > 0 and any(_cholesky_or_none(s - eps * np.eye(d)) is None for s in (sigma1, sigma2)):
    sigma1 = sigma1 + eps * np.eye(d)
    sigma2 = sigma2 + eps * np.eye(d)
  root = _cholesky_or_none(sigma1)
  if root is None:
    root = _psd_sqrt(sigma1)
  product = root.T @ sigma2 @ root
  eigs = np.clip(np.linalg.eigvalsh((product + product.T) / 2), 0.0, None)
  diff = mu1 - mu2
  return float(diff @ diff + np.trace(sigma1) + np.trace(sigma2) - 2 * np.sum(np.sqrt(eigs)))


def fid_from_features(feats1: np.ndarray, feats2: np.ndarray, eps: float = 1e-6) -> float:
  """FID between two feature sets [N1, D], [N2, D]: means and covariances (ddof=1, as pytorch-fid
  and TTUR) then `frechet_distance`.

  Raises:
    UserError: fewer than 2 samples in a set, or feature dimensions differ.
  Warns:
    UserWarning when a set has N <= D: its covariance is singular and FID is strongly biased
    (reference protocols use 10k-50k samples for D=2048).
  """
  feats1, feats2 = _features(feats1, "feats1"), _features(feats2, "feats2")
  _same_dim(feats1, feats2)
  for name, f in (("feats1", feats1), ("feats2", feats2)):
    if f.shape[0] <= f.shape[1]:
      warnings.warn(f"FID: {name} has {f.shape[0]} samples for {f.shape[1]} features; its "
                    "covariance is singular and the FID is biased upward.", stacklevel=2)
  return frechet_distance(feats1.mean(0), np.cov(feats1, rowvar=False),
                          feats2.mean(0), np.cov(feats2, rowvar=False), eps=eps)


def inception_score(probs: np.ndarray, splits: int = 10, seed: int = 0) -> tuple[float, float]:
  """Inception Score (Salimans et al. 2016): exp(E_x KL(p(y|x) || p(y))), p(y) per split.

  Rows are first permuted with `np.random.default_rng(seed).permutation(N)`, then cut into `splits`
  parts with `np.array_split`; the score is computed in each part.

  Args:
    probs: [N, K] class probabilities, rows summing to 1.
  Returns:
    (mean, std) over splits (std with ddof=0, as the reference code).
  """
  probs = _features(probs, "probs", min_rows=1)
  if np.any(probs < 0) or not np.allclose(probs.sum(1), 1.0, atol=1e-3):
    raise UserError("probs must be non-negative rows summing to 1 (softmax outputs, not logits).")
  if not 1 <= splits <= probs.shape[0]:
    raise UserError(f"splits must be in [1, N={probs.shape[0]}], got {splits}.")
  probs = probs[np.random.default_rng(seed).permutation(probs.shape[0])]
  scores = []
  for part in np.array_split(probs, splits):
    marginal = part.mean(0, keepdims=True)
    # KL with 0 log 0 = 0.
    log_ratio = np.log(np.where(part > 0, part, 1.0)) - np.log(np.where(part > 0, marginal, 1.0))
    kl = np.sum(part * log_ratio, axis=1)
    scores.append(np.exp(kl.mean()))
  return float(np.mean(scores)), float(np.std(scores))


def _polynomial_mmd2_unbiased(x: np.ndarray, y: np.ndarray) -> float:
  """Unbiased MMD^2 with k(a, b) = (a.b / d + 1)^3 (Binkowski et al. 2018, eq. 4 and sec. 4)."""
  m, d = x.shape

  def kernel(a, b):  # in place, and k * k * k: numpy's ** 3 is a pow() per element, ~10x slower
    k = a @ b.T
    k /= d
    k += 1
    return k * k * k
  k_xx, k_yy, k_xy = kernel(x, x), kernel(y, y), kernel(x, y)
  off_diag = lambda k: (k.sum() - np.trace(k)) / (m * (m - 1))
  return float(off_diag(k_xx) + off_diag(k_yy) - 2 * k_xy.mean())


def kernel_inception_distance(feats1: np.ndarray, feats2: np.ndarray, num_subsets: int = 100,
                              subset_size: int = 1000, seed: int = 0) -> tuple[float, float]:
  """KID (Binkowski et al. 2018): unbiased MMD^2 with a cubic polynomial kernel, averaged over
  random subsets.

  Each subset draws m = min(subset_size, N1, N2) rows from each set without replacement
  (`np.random.default_rng(seed).choice`), as in the authors' code.

  Returns:
    (mean, std) of MMD^2 over subsets (std with ddof=0). Report it unscaled (papers often x1000).
  """
  feats1, feats2 = _features(feats1, "feats1"), _features(feats2, "feats2")
  _same_dim(feats1, feats2)
  if num_subsets < 1 or subset_size < 2:
    raise UserError(f"KID needs num_subsets >= 1 and subset_size >= 2, got {num_subsets}, "
                    f"{subset_size}.")
  m = min(subset_size, feats1.shape[0], feats2.shape[0])
  rng = np.random.default_rng(seed)
  values = [_polynomial_mmd2_unbiased(feats1[rng.choice(feats1.shape[0], m, replace=False)],
                                      feats2[rng.choice(feats2.shape[0], m, replace=False)])
            for _ in range(num_subsets)]
  return float(np.mean(values)), float(np.std(values))


def _row_blocks(n_rows: int, n_cols: int):
  step = max(1, _BLOCK_ENTRIES // max(1, n_cols))
  for start in range(0, n_rows, step):
    yield slice(start, min(start + step, n_rows))


def _sq_dists(a: np.ndarray, b: np.ndarray) -> np.ndarray:
  """Squared Euclidean distances [len(a), len(b)], clipped at 0 against round-off."""
  d = np.sum(a * a, 1)[:, None] + np.sum(b * b, 1)[None, :] - 2 * a @ b.T
  return np.maximum(d, 0.0)


def _knn_sq_radii(x: np.ndarray, k: int) -> np.ndarray:
  """Squared distance from each row to its k-th nearest other row."""
  if not 1 <= k < x.shape[0]:
    raise UserError(f"k must be in [1, N-1] for N={x.shape[0]} samples, got {k}.")
  radii = np.empty(x.shape[0])
  for rows in _row_blocks(x.shape[0], x.shape[0]):
    # Index k of the sorted row: index 0 is the point itself (distance 0).
    radii[rows] = np.partition(_sq_dists(x[rows], x), k, axis=1)[:, k]
  return radii


def _ball_counts(centers: np.ndarray, sq_radii: np.ndarray,
                 points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
  """Membership of points in closed balls B(center_i, radius_i).

  Returns:
    (per_point, per_center): how many balls contain each point, how many points each ball holds.
  """
  per_point = np.empty(points.shape[0], np.int64)
  per_center = np.zeros(centers.shape[0], np.int64)
  for rows in _row_blocks(points.shape[0], centers.shape[0]):
    inside = _sq_dists(points[rows], centers) <= sq_radii[None, :]
    per_point[rows] = inside.sum(1)
    per_center += inside.sum(0)
  return per_point, per_center


def precision_recall(real: np.ndarray, fake: np.ndarray, k: int = 3) -> tuple[float, float]:
  """Improved precision and recall (Kynkaanniemi et al. 2019, eq. 1-3).

  Each set's manifold is the union of closed balls around its samples with radius the distance to
  their k-th nearest neighbour in the same set. Precision: fraction of fake samples inside the real
  manifold; recall: fraction of real samples inside the fake manifold.
  """
  real, fake = _features(real, "real"), _features(fake, "fake")
  _same_dim(real, fake)
  in_real, _ = _ball_counts(real, _knn_sq_radii(real, k), fake)
  in_fake, _ = _ball_counts(fake, _knn_sq_radii(fake, k), real)
  return float(np.mean(in_real > 0)), float(np.mean(in_fake > 0))


def density_coverage(real: np.ndarray, fake: np.ndarray, k: int = 5) -> tuple[float, float]:
  """Density and coverage (Naeem et al. 2020, eq. 3-4), with k-NN balls around real samples only.

  density = sum over fake samples of the number of real balls containing it, / (k * M): about 1
  when fake matches real, above 1 when fakes crowd dense regions. coverage = fraction of real
  samples whose ball contains at least one fake sample. Balls are closed (<=) as in precision.
  """
  real, fake = _features(real, "real"), _features(fake, "fake")
  _same_dim(real, fake)
  per_fake, per_real = _ball_counts(real, _knn_sq_radii(real, k), fake)
  return float(per_fake.sum() / (k * fake.shape[0])), float(np.mean(per_real > 0))
