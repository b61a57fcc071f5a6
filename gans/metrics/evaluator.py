"""All sample-quality metrics of a trained GAN workdir, with the protocol that produced them.

Image GANs: Frechet distance of the extractor's features (`fid` with FID's Inception, `fcd` with a
classifier), Inception Score (or classifier score) with the real data's score for scale, KID,
precision/recall (k=3) and density/coverage (k=5); for models conditioned on the dataset's classes, the
classifier's accuracy on samples of each requested class. 2-D mixtures: PacGAN mode coverage.

Protocol (returned with the numbers): samples are `task.sample(state, num, seed)` (the same as
`launch.sample --seed`), from the EMA generator when asked and kept, BatchNorm in inference mode, then
quantized to uint8 as if saved to PNG; the real images are the whole reference split, in order, with the
GAN run's deterministic preprocessing (resize to its image size) and never its value range or random
augmentation. FID/FCD and IS use all samples; KID uses 100 subsets of up to 1,000; precision/recall and
density/coverage use min(num, num_real) of each (a seeded subset of the real set).

Reference statistics (mu, sigma, the features, the real data's IS) depend only on the reference protocol
(dataset and version, split, preprocessing, extractor with its weights hash); they are computed once and
cached in `<cache_dir>/ref_stats/<key>.npz` (key: 20 hex digits of the protocol's sha256; cache_dir: the run's
`data_dir`, else the workdir). The file stores its protocol, which is checked on every read: a mismatch or
unreadable file is recomputed.
"""
import hashlib
import json
import os
import warnings

import jax
import numpy as np
import tensorflow as tf
from absl import logging
from ml_collections import ConfigDict

from gans.data import pipeline, preprocess, sources, toy
from gans.errors import UserError
from gans.metrics import features as features_lib
from gans.metrics import stats
from gans.metrics.mode_coverage import mode_coverage

CACHE_VERSION = 1
_DETERMINISTIC_OPS = ("resize", "grayscale_to_rgb")  # the GAN's preprocessing applied to real images
TOY_NUM, IMAGE_NUM = 2500, 10_000


def _builder(config: ConfigDict, split: str):
  builder = sources.get_builder(config.dataset, config.get("data_dir"))
  if split not in builder.info.splits:
    raise UserError(f"dataset {config.dataset} has no split {split!r}; known: {', '.join(builder.info.splits)}")
  return builder


def reference_protocol(config: ConfigDict, split: str, extractor: features_lib.Extractor) -> dict:
  """What the reference statistics of `split` depend on (the cache key hashes it)."""
  builder = _builder(config, split)
  shape = builder.info.features["image"].shape
  spec = pipeline.preprocess_spec(config, shape)
  ops = "|".join(op.strip() for op in spec.split("|") if op.split("(")[0].strip() in _DETERMINISTIC_OPS)
  image_shape = preprocess.output_shape(preprocess.build(ops), shape)
  return {"cache_version": CACHE_VERSION, "dataset": config.dataset, "dataset_version": str(builder.info.version),
          "split": split, "num_real": builder.info.splits[split].num_examples, "preprocess": ops or "none",
          "image_shape": list(image_shape), "quantize": "uint8", "extractor": extractor.protocol}


def _real_images(config: ConfigDict, protocol: dict, chunk: int = 1000):
  """Iterator over the reference split's uint8 images in order, in chunks, preprocessed per `protocol`."""
  op = preprocess.build("" if protocol["preprocess"] == "none" else protocol["preprocess"])
  seed = tf.constant([0, 0], tf.int64)
  ds = sources.read(_builder(config, protocol["split"]), protocol["split"])
  return ds.batch(chunk).map(lambda ex: op(ex["image"], seed)).as_numpy_iterator()


def cache_path(cache_dir: str, protocol: dict) -> str:
  """`<cache_dir>/ref_stats/<key>.npz`, the key hashing the protocol's canonical JSON."""
  key = hashlib.sha256(json.dumps(protocol, sort_keys=True).encode()).hexdigest()[:20]
  return os.path.join(cache_dir, "ref_stats", f"{key}.npz")


def _read_cache(path: str, protocol: dict) -> dict | None:
  """The cached statistics if the file is readable, stores `protocol` and is consistent; else None."""
  if not os.path.exists(path):
    return None
  try:
    with np.load(path, allow_pickle=False) as f:
      ref = {k: f[k] for k in f.files}
    stored = json.loads(str(ref.pop("protocol")))
  except Exception as e:  # pylint: disable=broad-except  # any unreadable file is recomputed
    logging.warning("reference statistics %s unreadable (%s): recomputing", path, type(e).__name__)
    return None
  n, d = protocol["num_real"], ref.get("mu", np.zeros(0)).shape[0]
  ok = (stored == protocol and ref["mu"].shape == (d,) and ref["sigma"].shape == (d, d)
        and ref["features"].shape == (n, d) and all(np.all(np.isfinite(v)) for v in ref.values()))
  if not ok:
    logging.warning("reference statistics %s do not match the protocol: recomputing", path)
    return None
  return ref


def reference_stats(config: ConfigDict, split: str, extractor: features_lib.Extractor, cache_dir: str,
                    is_splits: int = 10) -> tuple[dict, dict, str]:
  """Statistics of the real `split`: ({'mu', 'sigma', 'features', 'is_mean', 'is_std'}, their protocol,
  the cache file's path)."""
  protocol = reference_protocol(config, split, extractor)
  path = cache_path(cache_dir, protocol)
  ref = _read_cache(path, protocol)
  if ref is not None:
    return ref, protocol, path
  logging.info("computing reference statistics of %s/%s (%d images) with %s", config.dataset, split,
               protocol["num_real"], extractor.name)
  feats, logits = extractor.extract(_real_images(config, protocol))
  is_mean, is_std = stats.inception_score(_softmax(logits), splits=min(is_splits, len(logits)))
  ref = {"mu": feats.astype(np.float64).mean(0), "sigma": np.cov(feats.astype(np.float64), rowvar=False),
         "features": feats, "is_mean": np.float64(is_mean), "is_std": np.float64(is_std)}
  os.makedirs(os.path.dirname(path), exist_ok=True)
  tmp = f"{path}.{os.getpid()}.tmp.npz"
  np.savez(tmp, protocol=np.array(json.dumps(protocol, sort_keys=True)), **ref)
  os.replace(tmp, path)  # atomic: readers never see half a file
  return ref, protocol, path


def _softmax(logits: np.ndarray) -> np.ndarray:
  z = np.asarray(logits, np.float64)
  z = np.exp(z - z.max(1, keepdims=True))
  return z / z.sum(1, keepdims=True)


def _generator_mode(state, use_ema: bool) -> tuple[object, str]:
  """The state to sample from (EMA weights dropped unless asked for) and its description."""
  if use_ema and state.g_ema is not None:
    return state, "ema"
  return state.replace(g_ema=None), "raw" + (" (no EMA kept)" if use_ema else "")


def _image_metrics(feats: np.ndarray, logits: np.ndarray, ref: dict, classifier: bool, seed: int,
                   kid_subsets: int = 100) -> dict:
  """Frechet distance, (Inception or classifier) score, KID, precision/recall, density/coverage."""
  fd_name, score_name = ("fcd", "classifier_score") if classifier else ("fid", "is")
  num, real = len(feats), ref["features"]
  if num <= feats.shape[1]:
    warnings.warn(f"{num} samples for {feats.shape[1]} features: the covariance is singular and "
                  f"{fd_name.upper()} is biased upward", stacklevel=3)
  f64 = feats.astype(np.float64)
  out = {fd_name: stats.frechet_distance(f64.mean(0), np.cov(f64, rowvar=False), ref["mu"], ref["sigma"])}
  out[score_name], out[f"{score_name}_std"] = stats.inception_score(_softmax(logits), splits=min(10, num))
  out[f"{score_name}_real"] = float(ref["is_mean"])
  out["kid"], out["kid_std"] = stats.kernel_inception_distance(feats, real, num_subsets=kid_subsets, seed=seed)
  m = min(num, len(real))  # equal set sizes for the k-NN metrics
  if m < len(real):
    real = real[np.sort(np.random.default_rng(seed).choice(len(real), m, replace=False))]
  out["precision"], out["recall"] = stats.precision_recall(real, feats[:m], k=3)
  out["density"], out["coverage"] = stats.density_coverage(real, feats[:m], k=5)
  return out


def class_accuracy(logits: np.ndarray, labels: np.ndarray) -> dict:
  """How often a classifier assigns conditional samples to the class they were drawn for: overall
  (`class_accuracy`) and per requested class k (`class_accuracy_<k>`; scalars, as the run's logs want)."""
  hit = np.argmax(logits, 1) == labels
  out = {"class_accuracy": float(hit.mean())}
  out.update({f"class_accuracy_{k}": float(hit[labels == k].mean()) for k in np.unique(labels)})
  return out


def default_cache_dir(config: ConfigDict, workdir: str) -> str:
  """Where a run's `ref_stats/` go unless told otherwise: its data_dir, else its workdir."""
  return config.get("data_dir") or workdir


def evaluate_state(config: ConfigDict, task, state, num: int | None = None,
                   extractor: str | features_lib.Extractor = "inception_fid", reference_split: str = "test",
                   use_ema: bool = True, seed: int = 0, weights: str | None = None,
                   cache_dir: str = ".", kid_subsets: int = 100) -> dict:
  """Metrics of a GAN state: `task` is the run's sampler (`sample(state, num, seed)`), `state` its train
  state; `ref_stats/` go to `cache_dir`. `gans.runs.evaluate_workdir` evaluates a trained workdir.

  Args:
    config: the run's config.
    task: the run's task (its `sample` draws the samples).
    state: the GAN state to sample from.
    num: generated samples (default 2,500 for 2-D mixtures as PacGAN, 10,000 for images).
    extractor: feature extractor name (see `gans.metrics.features`) or an Extractor; unused for 2-D
      mixtures.
    reference_split: split of the run's dataset the samples are compared with.
    use_ema: sample from the EMA generator when the run kept one.
    seed: seed of the latent codes (and of the KID / real-subset draws).
    weights: FID Inception weights file (else $GANS_FID_WEIGHTS).
    cache_dir: where `ref_stats/` goes.
    kid_subsets: KID's random subsets (100 as Binkowski et al.; fewer make evaluations during training cheap).
  """
  toy_data = config.dataset in toy.MIXTURES
  num = num or (TOY_NUM if toy_data else IMAGE_NUM)
  if num < 2:
    raise UserError(f"--num must be at least 2, got {num}")
  state, mode = _generator_mode(state, use_ema)
  has_bn = bool(jax.tree.leaves(state.g.batch_stats))
  protocol = {"num_generated": num, "seed": seed, "generator": mode,
              "batchnorm": "none" if not has_bn else (
                  f"standing statistics of the EMA generator over {config.standing_stats_batches} batches"
                  if mode == "ema" and config.get("standing_stats_batches", 0) else "inference (running statistics)")}

  if toy_data:  # Lin et al. 2018, sec. 5.1
    protocol.update(metric="mode_coverage (PacGAN: high quality within 3 std of the nearest mode)",
                    dataset=config.dataset)
    result = mode_coverage(task.sample(state, num, seed), toy.modes(config.dataset), toy.mode_std(config.dataset))
    return {**result, "protocol": protocol}

  # Extractor and reference first: they fail fast on missing weights or a bad split.
  ext = extractor if isinstance(extractor, features_lib.Extractor) else features_lib.get_extractor(
      extractor, weights)
  if ext.protocol.get("trained_on", config.dataset) != config.dataset:
    logging.warning("the classifier was trained on %s, the GAN on %s", ext.protocol["trained_on"], config.dataset)
  ref, ref_protocol, path = reference_stats(config, reference_split, ext, cache_dir)
  classes = task.class_labels
  labels = np.arange(num) % classes if classes else None  # every class equally often, in turn
  fake = features_lib.to_uint8(task.sample(state, num, seed, labels=labels))
  if list(fake.shape[1:]) != ref_protocol["image_shape"]:
    raise UserError(f"samples {fake.shape[1:]} and {reference_split} images "
                    f"{tuple(ref_protocol['image_shape'])} differ in shape")
  feats, logits = ext(fake)
  result = _image_metrics(feats, logits, ref, ext.name == "classifier", seed, kid_subsets)
  if classes and ext.name == "classifier" and logits.shape[1] == classes:
    result.update(class_accuracy(logits, labels))
    protocol["class_accuracy"] = (f"samples drawn for labels i mod {classes}; accuracy of the extractor's argmax "
                                  "on them, overall and per requested class")
  m = min(num, ref_protocol["num_real"])
  protocol.update(
      extractor=ext.protocol, samples="quantized to uint8: round((x + 1) * 127.5)",
      reference={k: ref_protocol[k] for k in ("dataset", "dataset_version", "split", "num_real", "preprocess")},
      reference_cache=path,
      frechet="all samples vs the whole split, ddof=1 covariances, eps=1e-6 * I added to both if one is "
              "near-singular",
      score_splits=min(10, num), kid=f"cubic polynomial kernel, {kid_subsets} subsets of min(1000, n)",
      precision_recall=f"k=3, {m} vs {m}", density_coverage=f"k=5, {m} vs {m}")
  result["protocol"] = protocol
  return result
