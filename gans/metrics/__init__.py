"""Metrics: FID, IS, KID, precision/recall, density/coverage, mode coverage and their feature extractors.

- `stats`: the statistics on features (numpy/scipy).
- `mode_coverage`: PacGAN's 2-D mixture metrics (the module; the function is `mode_coverage.mode_coverage`,
  so that `from gans.metrics import mode_coverage` keeps giving the module).
- `inception_fid`: FID's Inception v3 in Flax and its weights loader.
- `features`: extractors by name (`inception_fid`, `classifier:<workdir>`) with their protocol.
- `evaluator`: every metric of a GAN state, with cached reference statistics (`gans.runs` evaluates a workdir).
"""
from gans.metrics import mode_coverage
from gans.metrics.evaluator import evaluate_state, reference_stats
from gans.metrics.features import Extractor, get_extractor, to_uint8, tree_sha256
from gans.metrics.inception_fid import FIDInceptionV3, load_params
from gans.metrics.stats import (
                                density_coverage,
                                fid_from_features,
                                frechet_distance,
                                inception_score,
                                kernel_inception_distance,
                                precision_recall,
)

__all__ = [
    "Extractor", "FIDInceptionV3", "density_coverage", "evaluate_state", "fid_from_features",
    "frechet_distance", "get_extractor", "inception_score", "kernel_inception_distance", "load_params",
    "mode_coverage", "precision_recall", "reference_stats", "to_uint8", "tree_sha256",
]
