"""Feature extractors by name: uint8 images -> (features, logits), each with the protocol that produced them.

- `inception_fid`: pool3 (2048-d) features and 1008 logits of FID's Inception v3 (`inception_fid.py`);
  the weights file comes from the `weights` argument or `$GANS_FID_WEIGHTS`.
- `classifier:<workdir>`: a classifier trained by this codebase (`launch.train` with a classifier
  config). Images get that run's evaluation preprocessing; features are the penultimate layer, i.e. the
  input of the last submodule the network calls at its top level (its head, e.g. the final Dense), or
  that submodule's output when the logits are computed after it without a module (told apart by shape;
  LeNet-5's fixed RBF output gives the 84 F6 units). Logits are the network's output in inference mode
  (running BatchNorm statistics, no flip averaging).

Extractors take uint8 images [N, H, W, C] (real data as stored; generated samples quantized with
`to_uint8`, as if saved to PNG). `weights_sha256` in the protocol is `tree_sha256` of the weights in use.
"""
import dataclasses
import hashlib
import json
import os
from typing import Any, Callable, Iterable

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import tensorflow as tf
from flax.traverse_util import flatten_dict, unflatten_dict
from ml_collections import ConfigDict

from gans import checkpoint
from gans.data import pipeline, preprocess, sources
from gans.errors import UserError
from gans.metrics import inception_fid
from gans.models import classifiers
from gans.registry import Registry

FID_WEIGHTS_ENV = "GANS_FID_WEIGHTS"
# "name" or "name:argument" -> factory(argument, weights) -> Extractor
EXTRACTORS: Registry[Callable[[str, str | None], "Extractor"]] = Registry("feature extractor")


def to_uint8(images: np.ndarray) -> np.ndarray:
  """Images in [-1, 1] -> uint8 round((x + 1) * 127.5), clipped (the inverse of value_range(-1, 1))."""
  return np.round((np.clip(np.asarray(images, np.float32), -1, 1) + 1) * 127.5).astype(np.uint8)


def tree_sha256(tree: Any) -> str:
  """sha256 over a pytree's leaves in sorted path order: path, dtype, shape and bytes of each.

  Independent of the file format the weights came from (.npz, .safetensors, orbax).
  """
  h = hashlib.sha256()
  leaves = {jax.tree_util.keystr(p): v for p, v in jax.tree_util.tree_leaves_with_path(tree)}
  for name in sorted(leaves):
    x = np.ascontiguousarray(np.asarray(leaves[name]))
    h.update(f"{name}|{x.dtype.str}|{x.shape}|".encode())
    h.update(x.tobytes())
  return h.hexdigest()


@dataclasses.dataclass
class Extractor:
  """Maps uint8 images to (features [N, D], logits [N, K]) float32, in fixed-size batches.

  Attributes:
    protocol: what produced the features (name, weights_sha256, resize, input, ...).
    apply: one batch of network inputs [batch_size, ...] -> (features, logits).
    prepare: a uint8 chunk [n, H, W, C] -> network inputs [n, ...] (numpy).
    batch_size: rows per `apply` call (the last batch is zero-padded, so one compilation serves all).
  """
  protocol: dict
  apply: Callable[[np.ndarray], tuple[jax.Array, jax.Array]]
  prepare: Callable[[np.ndarray], np.ndarray]
  batch_size: int = 100

  @property
  def name(self) -> str:
    return self.protocol["name"]

  def extract(self, chunks: Iterable[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Features and logits of all images in `chunks` (uint8 arrays [n, H, W, C]), in order."""
    feats, logits = [], []
    for chunk in chunks:
      chunk = np.asarray(chunk)
      if chunk.dtype != np.uint8 or chunk.ndim != 4:
        raise UserError(f"{self.name}: expected uint8 images [N, H, W, C], got {chunk.dtype} {chunk.shape}")
      x = self.prepare(chunk)
      for i in range(0, len(x), self.batch_size):
        batch = x[i:i + self.batch_size]
        n = len(batch)
        if n < self.batch_size:
          batch = np.concatenate([batch, np.zeros((self.batch_size - n, *batch.shape[1:]), batch.dtype)])
        f, l = jax.device_get(self.apply(batch))
        feats.append(np.asarray(f[:n], np.float32))
        logits.append(np.asarray(l[:n], np.float32))
    if not feats:
      raise UserError(f"{self.name}: no images to extract features from")
    return np.concatenate(feats), np.concatenate(logits)

  def __call__(self, images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return self.extract([images])


# --- inception_fid


def _to_inception_input(images: np.ndarray) -> np.ndarray:
  """uint8 -> float32 in [-1, 1] (pytorch-fid: x / 255 then 2x - 1), grayscale repeated to RGB."""
  x = images.astype(np.float32) / 127.5 - 1.0
  if x.shape[-1] == 1:
    x = np.repeat(x, 3, axis=-1)
  elif x.shape[-1] != 3:
    raise UserError(f"inception_fid takes 1- or 3-channel images, got {x.shape[-1]} channels")
  return x


def inception_extractor(weights: str | None = None, batch_size: int = 50) -> Extractor:
  """FID Inception features; `weights` (or $GANS_FID_WEIGHTS) is the converted weights file."""
  path = weights or os.environ.get(FID_WEIGHTS_ENV)
  if not path:
    raise UserError(f"inception_fid needs the FID Inception weights: set ${FID_WEIGHTS_ENV} or pass "
                    "--fid_weights (see third_party/pytorch_fid/README.md), or use "
                    "--extractor=classifier:<classifier workdir>")
  variables = inception_fid.load_params(os.path.expanduser(path))
  fn = jax.jit(inception_fid.FIDInceptionV3().apply)
  protocol = {
      "name": "inception_fid",
      "network": "pytorch-fid FID Inception v3 (TF inception-2015-12-05)",
      "weights_sha256": tree_sha256(variables),
      "features": f"pool3 ({inception_fid.FEATURE_DIM})",
      "logits": f"fc ({inception_fid.NUM_LOGITS})",
      "resize": f"bilinear to {inception_fid.INPUT_SIZE}x{inception_fid.INPUT_SIZE} (half-pixel centres, "
                "no antialiasing; torch F.interpolate align_corners=False)",
      "input": "uint8 [0, 255] -> [-1, 1]; grayscale repeated to RGB",
  }
  return Extractor(protocol, lambda b: fn(variables, b), _to_inception_input, batch_size)


# --- classifier:<workdir>


def _top_level_calls(model: nn.Module, variables, x):
  """Logits, and the (name, input, output) of each call of a direct submodule of `model`, in order."""
  calls = []

  def record(next_fun, args, kwargs, context):
    out = next_fun(*args, **kwargs)
    if context.method_name == "__call__" and len(context.module.scope.path) == 1 and args:
      calls.append((context.module.name, args[0], out))
    return out

  with nn.intercept_methods(record):
    logits = model.apply(variables, x, train=False)
  return logits, calls


def penultimate_fn(model: nn.Module, variables, example: np.ndarray) -> tuple[Callable, str]:
  """A jitted `(variables, images) -> (features, logits)` for a classifier, and what the features are.

  Tracing `model` on `example` [B, ...] finds its last top-level submodule: when that module's output has
  the logits' shape it is the head and its input is the feature; otherwise (logits computed after it
  without a module, e.g. LeNet-5's RBF output) its output is.
  """
  names = []

  def probe(v, x):
    logits, calls = _top_level_calls(model, v, x)
    names[:] = [c[0] for c in calls]  # at trace time
    return logits, [c[2] for c in calls[-1:]]

  logits, last = jax.eval_shape(probe, variables, example)
  if not names:
    raise UserError(f"{type(model).__name__} calls no submodule: it has no penultimate layer")
  use_input = last[0].shape == logits.shape

  def features(v, x):
    logits, calls = _top_level_calls(model, v, x)
    f = calls[-1][1] if use_input else calls[-1][2]
    return f.reshape(f.shape[0], -1).astype(jnp.float32), logits.astype(jnp.float32)

  return jax.jit(features), f"{'input' if use_input else 'output'} of {names[-1]}"


def _classifier(model, variables, shape: tuple[int, ...], eval_pp: str, image_size, source: str, protocol: dict,
                batch_size: int) -> Extractor:
  """The penultimate-layer extractor of a classifier `model` with `variables`, for inputs of `shape` made by
  its evaluation preprocessing `eval_pp` (resize to `image_size` first when the size differs)."""
  fn, what = penultimate_fn(model, variables, np.zeros((2, *shape), np.float32))
  seed = tf.constant([0, 0], tf.int64)

  def prepare(images: np.ndarray) -> np.ndarray:
    spec = pipeline.preprocess_spec(ConfigDict({"image_size": image_size, "preprocess": eval_pp}), images.shape[1:])
    op = preprocess.build(spec)
    ds = sources.fixed_parallelism(tf.data.Dataset.from_tensor_slices(images)).batch(1024).map(lambda im: op(im, seed))
    out = np.concatenate(list(ds.as_numpy_iterator()))
    if out.shape[1:] != shape:
      raise UserError(f"{source} takes {shape} inputs; images {images.shape[1:]} become {out.shape[1:]} after "
                      f"its preprocessing {spec!r}")
    return out.astype(np.float32)

  feat_dim, num_logits = (int(d.shape[-1]) for d in jax.eval_shape(fn, variables, np.zeros((1, *shape),
                                                                                          np.float32)))
  protocol = {
      **protocol,
      "weights_sha256": tree_sha256(jax.device_get(variables)),
      "features": f"{what} ({feat_dim})",
      "logits": f"output ({num_logits})",
      "resize": f"to {shape[0]}x{shape[1]} with tf.image.resize bilinear, antialiased, when the size differs",
      "input": f"uint8 [0, 255] -> eval_preprocess {eval_pp!r}",
  }
  return Extractor(protocol, lambda b: fn(variables, b), prepare, batch_size)


def classifier_extractor(workdir: str, batch_size: int = 200) -> Extractor:
  """Penultimate features and logits of the classifier trained in `workdir` (latest checkpoint, its raw
  weights)."""
  workdir = os.path.abspath(os.path.expanduser(workdir))
  config = checkpoint.load_config(workdir)
  if config.get("task", "gan") != "classifier":
    raise UserError(f"classifier:{workdir}: that run trained a {config.get('task', 'gan')}, not a classifier")
  data = pipeline.data_spec(config)
  model = classifiers.from_config(config.model, data.num_classes)
  variables, step = checkpoint.load_variables(workdir, prefer_ema=False)
  protocol = {"name": "classifier", "workdir": workdir, "model": config.model.name, "trained_on": config.dataset,
              "step": int(step)}
  return _classifier(model, variables, tuple(data.shape), config.get("eval_preprocess", "value_range(-1,1)"),
                     config.get("image_size") or data.shape[0], f"classifier:{workdir}", protocol, batch_size)


# --- classifiers shipped with the library: gans/metrics/weights/<name>.safetensors and <name>.json

SHIPPED_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "weights")


def shipped_names(directory: str = SHIPPED_DIR) -> list[str]:
  """The shipped in-domain classifiers (by name, e.g. 'fashion_mnist')."""
  return sorted(f[:-5] for f in os.listdir(directory) if f.endswith(".json")) if os.path.isdir(directory) else []


def export_classifier(workdir: str, name: str, directory: str = SHIPPED_DIR, command: str = "") -> dict:
  """Writes the classifier trained in `workdir` (the weights its evaluation used) as `<name>.safetensors` and
  its description `<name>.json` (model, input, test accuracy, the file's sha256); returns the description."""
  from safetensors.numpy import save_file  # pylint: disable=g-import-not-at-top  # optional dependency
  config = checkpoint.load_config(workdir)
  if config.get("task", "gan") != "classifier":
    raise UserError(f"{workdir}: that run trained a {config.get('task', 'gan')}, not a classifier")
  data = pipeline.data_spec(config)
  variables, step = checkpoint.load_variables(workdir, prefer_ema=True)
  flat = {"/".join(k): np.ascontiguousarray(v) for k, v in flatten_dict(variables).items()}
  os.makedirs(directory, exist_ok=True)
  path = os.path.join(directory, f"{name}.safetensors")
  save_file(flat, path)
  with open(path, "rb") as f:
    file_sha = hashlib.sha256(f.read()).hexdigest()
  split = config.get("eval_split", "test")
  accuracy = None
  metrics = os.path.join(workdir, "metrics.jsonl")
  if os.path.exists(metrics):
    with open(metrics) as f:
      rows = [json.loads(line) for line in f if line.strip().endswith("}")]
    accuracy = next((r[f"{split}_accuracy"] for r in reversed(rows) if f"{split}_accuracy" in r), None)
  description = {"name": name, "model": config.model.to_dict(), "num_classes": data.num_classes,
                 "image_shape": list(data.shape), "image_size": config.get("image_size"),
                 "eval_preprocess": config.get("eval_preprocess", "value_range(-1,1)"), "trained_on": config.dataset,
                 "experiment": config.get("experiment", ""), "step": int(step), f"{split}_accuracy": accuracy,
                 "command": command, "file_sha256": file_sha}
  with open(os.path.join(directory, f"{name}.json"), "w") as f:
    json.dump(description, f, indent=2, sort_keys=True)
  return description


def shipped_extractor(name: str, directory: str = SHIPPED_DIR, batch_size: int = 200) -> Extractor:
  """The shipped classifier `name` as an extractor (no training, no download); its file is checked against the
  sha256 its description records."""
  from safetensors.numpy import load_file  # pylint: disable=g-import-not-at-top  # optional dependency
  meta_path, path = (os.path.join(directory, f"{name}.{ext}") for ext in ("json", "safetensors"))
  if not os.path.exists(meta_path):
    raise UserError(f"no shipped classifier {name!r}; shipped: {', '.join(shipped_names(directory)) or 'none'}")
  with open(meta_path) as f:
    meta = json.load(f)
  with open(path, "rb") as f:
    if hashlib.sha256(f.read()).hexdigest() != meta["file_sha256"]:
      raise UserError(f"{path} does not match the sha256 in {meta_path}: the file is damaged or was replaced")
  variables = unflatten_dict({tuple(k.split("/")): v for k, v in load_file(path).items()})
  variables.setdefault("batch_stats", {})
  model = classifiers.from_config(meta["model"], meta["num_classes"])
  protocol = {"name": "classifier", "shipped": name, "model": meta["model"]["name"], "trained_on": meta["trained_on"],
              "experiment": meta["experiment"], "step": meta["step"], "file_sha256": meta["file_sha256"]}
  return _classifier(model, variables, tuple(meta["image_shape"]), meta["eval_preprocess"],
                     meta["image_size"] or meta["image_shape"][0], f"shipped:{name}", protocol, batch_size)


def default_extractor(dataset: str) -> str:
  """The extractor a run on `dataset` is scored with by default: the shipped in-domain classifier of that
  dataset when there is one, else FID's Inception."""
  return f"shipped:{dataset}" if dataset in shipped_names() else "inception_fid"


EXTRACTORS.register("inception_fid", lambda arg, weights: inception_extractor(weights))
EXTRACTORS.register("classifier", lambda workdir, weights: classifier_extractor(workdir))
EXTRACTORS.register("shipped", lambda name, weights: shipped_extractor(name))


def get_extractor(name: str, weights: str | None = None) -> Extractor:
  """The extractor `name`: 'inception_fid' (weights file: `weights` or $GANS_FID_WEIGHTS), 'classifier:<workdir>'
  (a classifier this codebase trained) or 'shipped:<name>' (a classifier shipped with the library)."""
  kind, _, arg = name.partition(":")
  if kind in ("classifier", "shipped") and not arg:
    raise UserError(f"the {kind} extractor needs an argument: classifier:<workdir> or shipped:<name>")
  return EXTRACTORS.get(kind)(arg, weights)
