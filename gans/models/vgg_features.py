"""VGG-16 / VGG-19 feature extractors (Simonyan & Zisserman 2015) in torchvision's `features` layout, for
perceptual losses: SRGAN's VGG loss (Ledig et al. 2017, sec. 2.2.1: relu5_4), ESRGAN's before activation
(Wang et al. 2018, sec. 3.3: conv5_4), Johnson et al. 2016's content and style layers (relu1_2 .. relu4_3).

Layers are named conv{block}_{i} (the convolution's output, before its ReLU), relu{block}_{i} (after it) and
pool{block}; `VGGFeatures(layers=...)` returns {name: activation} for the names asked for, and stops after
the deepest one. The convolutions are named `features_{k}` with k their index in torchvision's
`vgg16().features` / `vgg19().features`, so `load_vgg_weights` maps `features.{k}.weight` [O, I, 3, 3] to
`features_{k}/kernel` [3, 3, I, O] and `features.{k}.bias` to `features_{k}/bias`.

Inputs are RGB images in [-1, 1] (`input_range='[-1,1]'`, the GANs' range) or [0, 1]; they are mapped to
[0, 1] and normalised with the ImageNet mean and std torchvision's weights were trained with.

No weights are shipped: `load_vgg_weights` reads a .safetensors / .npz file converted from torchvision's
(third_party/torchvision_vgg); offline, `random_vgg19()` / `random_vgg16()` give fixed seeded random weights
(torchvision's initialisation), a stand-in that only exercises the code: its features mean nothing.
"""
import hashlib
import os
from typing import Any, Sequence

import flax.linen as nn
import jax.numpy as jnp
import numpy as np

from gans.errors import UserError

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)

# Convolutions per block (all 3x3, widths 64, 128, 256, 512, 512), each block ending in a 2x2 max pool.
BLOCK_CONVS = {16: (2, 2, 3, 3, 3), 19: (2, 2, 4, 4, 4)}
WIDTHS = (64, 128, 256, 512, 512)
INPUT_RANGES = ("[-1,1]", "[0,1]")


def layer_names(depth: int) -> list[str]:
  """Every activation name of VGG-`depth`, in order (conv1_1, relu1_1, ..., pool5)."""
  if depth not in BLOCK_CONVS:
    raise UserError(f"VGG depth must be 16 or 19, got {depth}")
  names = []
  for block, convs in enumerate(BLOCK_CONVS[depth], start=1):
    for i in range(1, convs + 1):
      names += [f"conv{block}_{i}", f"relu{block}_{i}"]
    names.append(f"pool{block}")
  return names


def conv_indices(depth: int) -> list[int]:
  """torchvision `features` indices of the convolutions (conv, ReLU and pool each take one index)."""
  names = layer_names(depth)
  return [k for k, name in enumerate(names) if name.startswith("conv")]


class VGGFeatures(nn.Module):
  """images [B, H, W, 3] -> {name: activation [B, h, w, C]} for `layers` (module docstring)."""
  depth: int = 19
  layers: Sequence[str] = ("relu5_4",)
  input_range: str = "[-1,1]"
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, x):
    names = layer_names(self.depth)
    unknown = [n for n in self.layers if n not in names]
    if unknown or not self.layers:
      raise UserError(f"unknown VGG-{self.depth} layer(s) {unknown}; known: {', '.join(names)}")
    if self.input_range not in INPUT_RANGES:
      raise UserError(f"input_range must be one of {INPUT_RANGES}, got {self.input_range!r}")
    if x.ndim != 4 or x.shape[-1] != 3:
      raise UserError(f"VGG features take RGB images [B, H, W, 3], got shape {x.shape}")
    x = x.astype(jnp.float32)
    if self.input_range == "[-1,1]":
      x = (x + 1) / 2
    x = ((x - jnp.asarray(IMAGENET_MEAN)) / jnp.asarray(IMAGENET_STD)).astype(self.dtype)
    last = max(names.index(n) for n in self.layers)
    init = nn.initializers.variance_scaling(2.0, "fan_out", "normal")  # torchvision's kaiming_normal_
    out = {}
    for k, name in enumerate(names[:last + 1]):
      if name.startswith("conv"):
        width = WIDTHS[int(name[4]) - 1]
        x = nn.Conv(width, (3, 3), padding=((1, 1), (1, 1)), kernel_init=init, dtype=self.dtype,
                    name=f"features_{k}")(x)
      elif name.startswith("relu"):
        x = nn.relu(x)
      else:
        x = nn.max_pool(x, (2, 2), (2, 2))
      if name in self.layers:
        out[name] = x
    return out


def expected_shapes(depth: int) -> dict[str, tuple[int, ...]]:
  """torchvision parameter name -> PyTorch shape, for the convolutions of VGG-`depth`."""
  shapes, cin = {}, 3
  names = layer_names(depth)
  for k in conv_indices(depth):
    cout = WIDTHS[int(names[k][4]) - 1]
    shapes[f"features.{k}.weight"] = (cout, cin, 3, 3)
    shapes[f"features.{k}.bias"] = (cout,)
    cin = cout
  return shapes


def _read(path: str) -> dict[str, np.ndarray]:
  if not os.path.isfile(path):
    raise UserError(f"no VGG weights file {path!r} (see third_party/torchvision_vgg/README.md)")
  if path.endswith(".safetensors"):
    from safetensors.numpy import load_file  # optional dependency, only for this format
    return dict(load_file(path))
  if path.endswith(".npz"):
    with np.load(path, allow_pickle=False) as data:
      return {k: data[k] for k in data.files}
  raise UserError(f"VGG weights must be a .safetensors or .npz file, got {path!r}")


def load_vgg_weights(path: str, depth: int = 19) -> tuple[dict, str]:
  """({'params': ...} for `VGGFeatures(depth)`, the file's sha256) from torchvision-named tensors.

  Every convolution of VGG-`depth` must be present with its shape; other tensors (e.g. `classifier.*`) are
  ignored. Kernels go from PyTorch's [O, I, kh, kw] to flax's [kh, kw, I, O].
  """
  tensors = _read(path)
  expected = expected_shapes(depth)
  missing = sorted(set(expected) - set(tensors), key=lambda n: int(n.split(".")[1]))
  if missing:
    raise UserError(f"{path!r} lacks VGG-{depth} tensor(s) {', '.join(missing[:4])}"
                    f"{' ...' if len(missing) > 4 else ''}")
  params = {}
  for name, shape in expected.items():
    value = np.asarray(tensors[name], np.float32)
    if value.shape != shape:
      raise UserError(f"{path!r}: {name} has shape {value.shape}, VGG-{depth} needs {shape}")
    if not np.all(np.isfinite(value)):
      raise UserError(f"{path!r}: {name} has non-finite values")
    _, k, kind = name.split(".")
    layer = params.setdefault(f"features_{k}", {})
    if kind == "weight":
      layer["kernel"] = jnp.asarray(value.transpose(2, 3, 1, 0))
    else:
      layer["bias"] = jnp.asarray(value)
  with open(path, "rb") as f:
    sha256 = hashlib.sha256(f.read()).hexdigest()
  return {"params": params}, sha256


def random_vgg(depth: int, seed: int = 0) -> dict:
  """{'params': ...} of VGG-`depth` drawn as torchvision initialises it (kaiming normal with fan out: std
  sqrt(2 / (9 * out channels)); zero biases) from numpy's generator seeded with `seed` (no compile): the
  offline stand-in for pretrained weights (its features are not perceptual)."""
  shapes = expected_shapes(depth)
  rng = np.random.default_rng(seed)
  params = {}
  for k in conv_indices(depth):
    cout, cin = shapes[f"features.{k}.weight"][:2]
    kernel = rng.normal(0.0, np.sqrt(2.0 / (9 * cout)), (3, 3, cin, cout)).astype(np.float32)
    params[f"features_{k}"] = {"kernel": jnp.asarray(kernel), "bias": jnp.zeros((cout,), jnp.float32)}
  return {"params": params}


def random_vgg19(seed: int = 0) -> dict:
  """`random_vgg(19, seed)`."""
  return random_vgg(19, seed)


def random_vgg16(seed: int = 0) -> dict:
  """`random_vgg(16, seed)`."""
  return random_vgg(16, seed)
