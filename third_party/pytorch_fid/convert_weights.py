"""Converts pytorch-fid's FID Inception weights (.pth) to the layout of `gans.metrics.inception_fid`.

  pip install torch numpy safetensors   # on any machine; CPU is enough
  python third_party/pytorch_fid/convert_weights.py pt_inception-2015-12-05-6726825d.pth fid_inception.npz

The .pth is read with `torch.load(weights_only=True)` (no arbitrary pickle code runs) and its sha256 must
start with 6726825d, the hash in its file name (torch.hub's convention). The output (.npz or
.safetensors, by extension) holds float32 tensors named by Flax path (`params/Mixed_5b/b1_1/conv/kernel`,
`batch_stats/conv1a/bn/var`): conv kernels go from torch's OIHW to Flax's HWIO, the fc weight is
transposed, BatchNorm weight/bias/running_mean/running_var become scale/bias/mean/var and
`num_batches_tracked` is dropped. `convert` is pure numpy, so it is tested without torch.
"""
import argparse
import hashlib
import sys
from typing import Mapping

import numpy as np

EXPECTED_SHA256_PREFIX = "6726825d"

_STEM = {"Conv2d_1a_3x3": "conv1a", "Conv2d_2a_3x3": "conv2a", "Conv2d_2b_3x3": "conv2b",
         "Conv2d_3b_1x1": "conv3b", "Conv2d_4a_3x3": "conv4a"}

# torchvision's branch names -> the Flax tower names of gans.models.classifiers.inception, per block type.
_BRANCHES = {
    "A": {"branch1x1": "b0_0", "branch5x5_1": "b1_0", "branch5x5_2": "b1_1", "branch3x3dbl_1": "b2_0",
          "branch3x3dbl_2": "b2_1", "branch3x3dbl_3": "b2_2", "branch_pool": "pool_proj"},
    "B": {"branch3x3": "b0_0", "branch3x3dbl_1": "b1_0", "branch3x3dbl_2": "b1_1", "branch3x3dbl_3": "b1_2"},
    "C": {"branch1x1": "b0_0", **{f"branch7x7_{i + 1}": f"b1_{i}" for i in range(3)},
          **{f"branch7x7dbl_{i + 1}": f"b2_{i}" for i in range(5)}, "branch_pool": "pool_proj"},
    "D": {"branch3x3_1": "b0_0", "branch3x3_2": "b0_1", **{f"branch7x7x3_{i + 1}": f"b1_{i}" for i in range(4)}},
    "E": {"branch1x1": "b0_0", "branch3x3_1": "b1_0", "branch3x3_2a": "b1a_0", "branch3x3_2b": "b1b_0",
          "branch3x3dbl_1": "b2_0", "branch3x3dbl_2": "b2_1", "branch3x3dbl_3a": "b2a_0",
          "branch3x3dbl_3b": "b2b_0", "branch_pool": "pool_proj"},
}
_BLOCK_TYPE = {"Mixed_5b": "A", "Mixed_5c": "A", "Mixed_5d": "A", "Mixed_6a": "B", "Mixed_6b": "C",
               "Mixed_6c": "C", "Mixed_6d": "C", "Mixed_6e": "C", "Mixed_7a": "D", "Mixed_7b": "E",
               "Mixed_7c": "E"}
# BasicConv2d leaves: torch suffix -> (collection, Flax suffix).
_LEAVES = {"conv.weight": ("params", "conv/kernel"), "bn.weight": ("params", "bn/scale"),
           "bn.bias": ("params", "bn/bias"), "bn.running_mean": ("batch_stats", "bn/mean"),
           "bn.running_var": ("batch_stats", "bn/var")}


def flax_name(torch_name: str) -> str | None:
  """The Flax tensor name of a torch state-dict entry; None for entries that are dropped.

  Raises:
    KeyError: a name that is not part of pytorch-fid's FID Inception.
  """
  if torch_name.endswith("num_batches_tracked"):
    return None
  if torch_name in ("fc.weight", "fc.bias"):
    return "params/fc/" + ("kernel" if torch_name.endswith("weight") else "bias")
  parts = torch_name.split(".")
  if parts[0] in _STEM:
    module, leaf = _STEM[parts[0]], ".".join(parts[1:])
  elif parts[0] in _BLOCK_TYPE and len(parts) > 2 and parts[1] in _BRANCHES[_BLOCK_TYPE[parts[0]]]:
    module, leaf = f"{parts[0]}/{_BRANCHES[_BLOCK_TYPE[parts[0]]][parts[1]]}", ".".join(parts[2:])
  else:
    raise KeyError(f"not a tensor of the FID Inception: {torch_name}")
  if leaf not in _LEAVES:
    raise KeyError(f"not a tensor of the FID Inception: {torch_name}")
  collection, suffix = _LEAVES[leaf]
  return f"{collection}/{module}/{suffix}"


def oihw_to_hwio(kernel: np.ndarray) -> np.ndarray:
  """torch conv weight [out, in, kh, kw] -> Flax/lax kernel [kh, kw, in, out]."""
  return np.transpose(kernel, (2, 3, 1, 0))


def convert(state_dict: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
  """A torch state dict (as numpy arrays) -> {Flax name: float32 array in Flax layout}."""
  out = {}
  for name, value in state_dict.items():
    target = flax_name(name)
    if target is None:
      continue
    value = np.asarray(value, np.float32)
    if name == "fc.weight":
      value = value.T  # Linear [out, in] -> Dense [in, out]
    elif value.ndim == 4:
      value = oihw_to_hwio(value)
    out[target] = np.ascontiguousarray(value)
  return out


def save(tensors: Mapping[str, np.ndarray], path: str) -> None:
  """Writes `tensors` as .npz (uncompressed) or .safetensors, chosen by the extension."""
  if path.endswith(".npz"):
    np.savez(path, **tensors)
  elif path.endswith(".safetensors"):
    from safetensors.numpy import save_file  # pylint: disable=g-import-not-at-top
    save_file(dict(tensors), path)
  else:
    raise ValueError(f"output must end in .npz or .safetensors: {path}")


def main(argv=None) -> int:
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("src", help="pt_inception-2015-12-05-6726825d.pth")
  parser.add_argument("dst", help="output .npz or .safetensors")
  parser.add_argument("--allow_other_weights", action="store_true",
                      help=f"convert even if the sha256 does not start with {EXPECTED_SHA256_PREFIX}")
  args = parser.parse_args(argv)
  with open(args.src, "rb") as f:
    digest = hashlib.sha256(f.read()).hexdigest()
  if not digest.startswith(EXPECTED_SHA256_PREFIX) and not args.allow_other_weights:
    print(f"error: {args.src} has sha256 {digest}, expected {EXPECTED_SHA256_PREFIX}...; not pytorch-fid's "
          "weights (pass --allow_other_weights to convert anyway)", file=sys.stderr)
    return 1
  import torch  # pylint: disable=g-import-not-at-top
  state = torch.load(args.src, map_location="cpu", weights_only=True)
  tensors = convert({k: v.detach().cpu().numpy() for k, v in state.items()})
  save(tensors, args.dst)
  print(f"wrote {len(tensors)} tensors from {args.src} (sha256 {digest}) to {args.dst}")
  return 0


if __name__ == "__main__":
  sys.exit(main())
