"""Converts torchvision's ImageNet VGG-16 / VGG-19 weights (.pth) for `gans.models.vgg_features`.

  pip install torch numpy safetensors   # on any machine; CPU is enough
  python third_party/torchvision_vgg/convert_weights.py vgg19-dcbb9e9d.pth vgg19_features.safetensors

The .pth is read with `torch.load(weights_only=True)` (no arbitrary pickle code runs); its sha256 must start
with the hash in its torchvision file name (torch.hub's convention). Only the convolutions of `features`
are kept, under their torchvision names (`features.0.weight`, `features.0.bias`, ...), as float32 in
PyTorch's layout: `gans.models.vgg_features.load_vgg_weights` transposes them to flax's when it loads them.
The output is .safetensors or .npz, by extension. `convert` is pure numpy, so it is tested without torch.
"""
import argparse
import hashlib
import os
import sys
from typing import Mapping

import numpy as np

# torchvision's file names: the start of each file's sha256.
KNOWN_FILES = {"vgg16-397923af.pth": "397923af", "vgg19-dcbb9e9d.pth": "dcbb9e9d"}


def convert(state_dict: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
  """A torchvision VGG state dict (numpy arrays) -> its `features.*` tensors as contiguous float32."""
  tensors = {name: np.ascontiguousarray(np.asarray(value, np.float32)) for name, value in state_dict.items()
             if name.startswith("features.")}
  if not tensors:
    raise ValueError("no features.* tensors: not a torchvision VGG state dict")
  return tensors


def save(tensors: Mapping[str, np.ndarray], path: str) -> None:
  """Writes .safetensors or .npz (never a pickle)."""
  if path.endswith(".safetensors"):
    from safetensors.numpy import save_file  # pylint: disable=g-import-not-at-top
    save_file(dict(tensors), path)
  elif path.endswith(".npz"):
    np.savez(path, **tensors)
  else:
    raise ValueError(f"output must end in .safetensors or .npz, got {path}")


def main(argv=None) -> int:
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("src", help="torchvision .pth (vgg16-397923af.pth or vgg19-dcbb9e9d.pth)")
  parser.add_argument("dst", help="output .safetensors or .npz")
  parser.add_argument("--any_hash", action="store_true", help="convert even if the sha256 is not the expected one")
  args = parser.parse_args(argv)
  with open(args.src, "rb") as f:
    digest = hashlib.sha256(f.read()).hexdigest()
  prefix = KNOWN_FILES.get(os.path.basename(args.src))
  if not args.any_hash and (prefix is None or not digest.startswith(prefix)):
    print(f"error: {args.src} (sha256 {digest}) is not one of torchvision's {sorted(KNOWN_FILES)} with its hash; "
          "pass --any_hash to convert it anyway", file=sys.stderr)
    return 1
  import torch  # pylint: disable=g-import-not-at-top
  state = torch.load(args.src, map_location="cpu", weights_only=True)
  tensors = convert({name: value.numpy() for name, value in state.items()})
  save(tensors, args.dst)
  with open(args.dst, "rb") as f:
    out_digest = hashlib.sha256(f.read()).hexdigest()
  print(f"wrote {len(tensors)} tensors from {args.src} (sha256 {digest}) to {args.dst} (sha256 {out_digest})")
  return 0


if __name__ == "__main__":
  sys.exit(main())
