"""FID Inception: layout conversion, loader checks, parameter count, resize and the FID pooling variants.

No real weights exist here: the torch state dict is written by the test from torchvision's Inception v3
layout (listed below from its source, independently of the code under test) with random values.
"""
import importlib.util
import os

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from gans.errors import UserError
from gans.metrics import features, inception_fid

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _converter():
  path = os.path.join(ROOT, "third_party", "pytorch_fid", "convert_weights.py")
  spec = importlib.util.spec_from_file_location("convert_weights", path)
  module = importlib.util.module_from_spec(spec)
  spec.loader.exec_module(module)
  return module


convert_weights = _converter()


def torch_convs():
  """(name, out, in, kh, kw) of every BasicConv2d of pytorch-fid's FID Inception (torchvision names)."""
  convs = [("Conv2d_1a_3x3", 32, 3, 3, 3), ("Conv2d_2a_3x3", 32, 32, 3, 3), ("Conv2d_2b_3x3", 64, 32, 3, 3),
           ("Conv2d_3b_1x1", 80, 64, 1, 1), ("Conv2d_4a_3x3", 192, 80, 3, 3)]

  def block(name, branches):
    convs.extend((f"{name}.{b}", o, i, kh, kw) for b, o, i, kh, kw in branches)

  for name, cin, pool in (("Mixed_5b", 192, 32), ("Mixed_5c", 256, 64), ("Mixed_5d", 288, 64)):
    block(name, [("branch1x1", 64, cin, 1, 1), ("branch5x5_1", 48, cin, 1, 1), ("branch5x5_2", 64, 48, 5, 5),
                 ("branch3x3dbl_1", 64, cin, 1, 1), ("branch3x3dbl_2", 96, 64, 3, 3),
                 ("branch3x3dbl_3", 96, 96, 3, 3), ("branch_pool", pool, cin, 1, 1)])
  block("Mixed_6a", [("branch3x3", 384, 288, 3, 3), ("branch3x3dbl_1", 64, 288, 1, 1),
                     ("branch3x3dbl_2", 96, 64, 3, 3), ("branch3x3dbl_3", 96, 96, 3, 3)])
  for name, c7 in (("Mixed_6b", 128), ("Mixed_6c", 160), ("Mixed_6d", 160), ("Mixed_6e", 192)):
    block(name, [("branch1x1", 192, 768, 1, 1), ("branch7x7_1", c7, 768, 1, 1), ("branch7x7_2", c7, c7, 1, 7),
                 ("branch7x7_3", 192, c7, 7, 1), ("branch7x7dbl_1", c7, 768, 1, 1),
                 ("branch7x7dbl_2", c7, c7, 7, 1), ("branch7x7dbl_3", c7, c7, 1, 7),
                 ("branch7x7dbl_4", c7, c7, 7, 1), ("branch7x7dbl_5", 192, c7, 1, 7),
                 ("branch_pool", 192, 768, 1, 1)])
  block("Mixed_7a", [("branch3x3_1", 192, 768, 1, 1), ("branch3x3_2", 320, 192, 3, 3),
                     ("branch7x7x3_1", 192, 768, 1, 1), ("branch7x7x3_2", 192, 192, 1, 7),
                     ("branch7x7x3_3", 192, 192, 7, 1), ("branch7x7x3_4", 192, 192, 3, 3)])
  for name, cin in (("Mixed_7b", 1280), ("Mixed_7c", 2048)):
    block(name, [("branch1x1", 320, cin, 1, 1), ("branch3x3_1", 384, cin, 1, 1),
                 ("branch3x3_2a", 384, 384, 1, 3), ("branch3x3_2b", 384, 384, 3, 1),
                 ("branch3x3dbl_1", 448, cin, 1, 1), ("branch3x3dbl_2", 384, 448, 3, 3),
                 ("branch3x3dbl_3a", 384, 384, 1, 3), ("branch3x3dbl_3b", 384, 384, 3, 1),
                 ("branch_pool", 192, cin, 1, 1)])
  return convs


def random_torch_state(seed=0):
  """A state dict of pytorch-fid's layout (OIHW convs, BatchNorm buffers, fc [1008, 2048])."""
  rng = np.random.default_rng(seed)
  state = {}
  for name, o, i, kh, kw in torch_convs():
    state[f"{name}.conv.weight"] = (rng.standard_normal((o, i, kh, kw)) * np.sqrt(2 / (i * kh * kw))).astype(
        np.float32)
    state[f"{name}.bn.weight"] = rng.uniform(0.8, 1.2, o).astype(np.float32)
    state[f"{name}.bn.bias"] = (0.1 * rng.standard_normal(o)).astype(np.float32)
    state[f"{name}.bn.running_mean"] = (0.1 * rng.standard_normal(o)).astype(np.float32)
    state[f"{name}.bn.running_var"] = rng.uniform(0.5, 1.5, o).astype(np.float32)
    state[f"{name}.bn.num_batches_tracked"] = np.array(7, np.int64)
  state["fc.weight"] = (rng.standard_normal((1008, 2048)) / 45).astype(np.float32)
  state["fc.bias"] = (0.1 * rng.standard_normal(1008)).astype(np.float32)
  return state


@pytest.fixture(scope="module")
def torch_state():
  return random_torch_state()


@pytest.fixture(scope="module")
def weights_file(torch_state, tmp_path_factory):
  path = str(tmp_path_factory.mktemp("fid") / "fid_inception.npz")
  convert_weights.save(convert_weights.convert(torch_state), path)
  return path


def test_parameter_count_matches_torchvision_layout():
  shapes = inception_fid.expected_shapes()
  count = lambda prefix: sum(int(np.prod(s)) for k, s in shapes.items() if k.startswith(prefix))
  convs = torch_convs()
  assert len(convs) == 94 and len(shapes) == 94 * 5 + 2
  # Independent count from the torch layout: conv weights + BN weight/bias + fc.
  torch_params = sum(o * i * kh * kw + 2 * o for _, o, i, kh, kw in convs) + 2048 * 1008 + 1008
  assert count("params/") == torch_params == 23_850_960  # torchvision's 23,834,568 + 8 * 2,049
  assert count("batch_stats/") == 2 * sum(o for _, o, *_ in convs) == 34_432


def test_loaded_weights_land_in_place_and_run(torch_state, weights_file, tmp_path):
  variables = inception_fid.load_params(weights_file)
  p, s = variables["params"], variables["batch_stats"]
  np.testing.assert_array_equal(p["Mixed_7c"]["pool_proj"]["conv"]["kernel"],
                                torch_state["Mixed_7c.branch_pool.conv.weight"].transpose(2, 3, 1, 0))
  np.testing.assert_array_equal(p["Mixed_6b"]["b2_4"]["conv"]["kernel"][0, :, 5, 7],
                                torch_state["Mixed_6b.branch7x7dbl_5.conv.weight"][7, 5, 0, :])
  np.testing.assert_array_equal(s["Mixed_7b"]["b2b_0"]["bn"]["var"],
                                torch_state["Mixed_7b.branch3x3dbl_3b.bn.running_var"])
  np.testing.assert_array_equal(p["conv1a"]["bn"]["scale"], torch_state["Conv2d_1a_3x3.bn.weight"])
  # The same tensors from .safetensors: same tree, same content hash.
  st = str(tmp_path / "w.safetensors")
  convert_weights.save(convert_weights.convert(torch_state), st)
  assert features.tree_sha256(inception_fid.load_params(st)) == features.tree_sha256(variables)


  # Through the extractor: uint8 in, 3 images in batches of 2 (the last one zero-padded).
  ext = features.inception_extractor(weights_file, batch_size=2)
  assert ext.protocol["weights_sha256"] == features.tree_sha256(variables)
  gray = np.random.default_rng(1).integers(0, 256, (3, 32, 32, 1), dtype=np.uint8)
  pool3, logits = ext(gray)
  assert pool3.shape == (3, 2048) and logits.shape == (3, 1008)
  assert np.all(np.isfinite(pool3)) and np.all(pool3 >= 0)  # mean of ReLU outputs
  assert not np.allclose(pool3[0], pool3[1])
  expected = pool3.astype(np.float64) @ torch_state["fc.weight"].T + torch_state["fc.bias"]
  np.testing.assert_allclose(logits, expected, rtol=1e-4, atol=1e-4)
  # pytorch-fid's input: x / 255 in [0, 1], then 2x - 1; a grayscale image counts as its RGB repeat.
  np.testing.assert_allclose(features._to_inception_input(gray), np.repeat(gray / 255 * 2 - 1, 3, -1), atol=1e-6)
  rgb_pool3, _ = ext(np.repeat(gray, 3, -1))
  np.testing.assert_array_equal(rgb_pool3, pool3)


def test_conv_layout_conversion_matches_torch_convolution():
  rng = np.random.default_rng(0)
  w = rng.standard_normal((5, 4, 3, 2)).astype(np.float32)  # torch OIHW, non-square kernel
  x = rng.standard_normal((2, 4, 9, 8)).astype(np.float32)  # NCHW
  # torch conv2d (cross-correlation, no padding), written out directly.
  out_h, out_w = 9 - 3 + 1, 8 - 2 + 1
  ref = np.zeros((2, 5, out_h, out_w), np.float64)
  for ky in range(3):
    for kx in range(2):
      ref += np.einsum("nihw,oi->nohw", x[:, :, ky:ky + out_h, kx:kx + out_w], w[:, :, ky, kx])
  got = jax.lax.conv_general_dilated(jnp.asarray(x.transpose(0, 2, 3, 1)), convert_weights.oihw_to_hwio(w),
                                     (1, 1), "VALID", dimension_numbers=("NHWC", "HWIO", "NHWC"))
  np.testing.assert_allclose(np.asarray(got).transpose(0, 3, 1, 2), ref, rtol=1e-5, atol=1e-5)


def _torch_bilinear(x: np.ndarray, size: int) -> np.ndarray:
  """torch F.interpolate(bilinear, align_corners=False) on NHWC, from its formula."""
  def axis_weights(n_in):
    src = np.maximum((np.arange(size) + 0.5) * n_in / size - 0.5, 0)
    i0 = np.floor(src).astype(int)
    i1 = np.minimum(i0 + 1, n_in - 1)
    lam = src - i0
    m = np.zeros((size, n_in))
    m[np.arange(size), i0] += 1 - lam
    m[np.arange(size), i1] += lam
    return m
  rows = np.einsum("yh,nhwc->nywc", axis_weights(x.shape[1]), x)
  return np.einsum("nywc,xw->nyxc", rows, axis_weights(x.shape[2]))


@pytest.mark.parametrize("shape", [(2, 28, 19, 3), (1, 450, 333, 2)])
def test_resize_is_torch_bilinear_without_antialiasing(shape):
  x = np.random.default_rng(0).uniform(-1, 1, shape).astype(np.float32)
  got = inception_fid.resize_bilinear(jnp.asarray(x), 299)
  # float32 source coordinates in jax: ~1e-4 on unit-scale noise; antialiasing would differ by ~0.1
  np.testing.assert_allclose(got, _torch_bilinear(x.astype(np.float64), 299), atol=2e-4)


def _pool_ref(x: np.ndarray, kind: str) -> np.ndarray:
  """3x3 stride-1 pad-1 pooling on NHWC: max (pads -inf) or average over the in-image cells only."""
  n, h, w, c = x.shape
  pad = np.pad(x, ((0, 0), (1, 1), (1, 1), (0, 0)), constant_values=np.nan)
  windows = np.stack([pad[:, i:i + h, j:j + w] for i in range(3) for j in range(3)])
  return np.nanmax(windows, 0) if kind == "max" else np.nanmean(windows, 0)


def _identity_pool_branch(block: str, channels: int):
  """Variables of `block` (shapes from the full network) with every conv zero, BatchNorm the identity and
  pool_proj copying the first `channels` input channels."""
  tree = {}
  for name, shape in inception_fid.expected_shapes().items():
    collection, module, *rest = name.split("/")
    if module == block:
      leaf = np.ones(shape, np.float32) * (1 - 1e-3) if rest[-1] in ("scale", "var") else np.zeros(shape, np.float32)
      tree.setdefault(collection, {}).setdefault(rest[0], {}).setdefault(rest[1], {})[rest[2]] = leaf
  for stats in tree["batch_stats"].values():
    stats["bn"]["var"][:] = 1 - 1e-3  # 1 / sqrt(var + eps) = 1
  for params in tree["params"].values():
    params["bn"]["scale"][:] = 1
  tree["params"]["pool_proj"]["conv"]["kernel"][0, 0, np.arange(channels), np.arange(channels)] = 1
  return tree


def test_block_pooling_is_configured_as_pytorch_fid():
  pools = [(name, kw.get("pool", "max")) for name, kw in inception_fid._BLOCKS]
  assert pools == [("Mixed_5b", "avg_exclude_pad"), ("Mixed_5c", "avg_exclude_pad"),
                   ("Mixed_5d", "avg_exclude_pad"), ("Mixed_6a", "max"), ("Mixed_6b", "avg_exclude_pad"),
                   ("Mixed_6c", "avg_exclude_pad"), ("Mixed_6d", "avg_exclude_pad"),
                   ("Mixed_6e", "avg_exclude_pad"), ("Mixed_7a", "max")]


@pytest.mark.parametrize("block, kind", [("Mixed_5b", "avg"), ("Mixed_7b", "avg"), ("Mixed_7c", "max")])
def test_pool_branches_follow_pytorch_fid(block, kind):
  """A (and C, configured alike) and E_1 average pools ignore padded zeros; E_2 (Mixed_7c) max-pools."""
  if block == "Mixed_5b":
    module = inception_fid.Mixed(**dict(inception_fid._BLOCKS)[block])
    call = lambda v, x: module.apply(v, x, False)
  else:
    module = inception_fid.InceptionE(inception_fid._EXCLUDE_PAD if block == "Mixed_7b" else "max_same")
    call = module.apply
  variables = _identity_pool_branch(block, 3)
  in_channels = variables["params"]["b0_0"]["conv"]["kernel"].shape[2]
  pool_channels = variables["params"]["pool_proj"]["conv"]["kernel"].shape[3]
  x = np.random.default_rng(0).uniform(0.1, 1, (1, 5, 6, in_channels)).astype(np.float32)
  out = np.asarray(jax.jit(call)(variables, x))
  np.testing.assert_allclose(out[..., -pool_channels:][..., :3], _pool_ref(x[..., :3], kind), rtol=1e-5,
                             atol=1e-6)
  assert np.all(out[..., :-pool_channels] == 0) and np.all(out[..., -pool_channels + 3:] == 0)


def test_converter_names_and_drops():
  assert convert_weights.flax_name("Mixed_6e.branch7x7_2.conv.weight") == "params/Mixed_6e/b1_1/conv/kernel"
  assert convert_weights.flax_name("Conv2d_4a_3x3.bn.running_mean") == "batch_stats/conv4a/bn/mean"
  assert convert_weights.flax_name("Mixed_5b.branch1x1.bn.num_batches_tracked") is None
  with pytest.raises(KeyError):
    convert_weights.flax_name("AuxLogits.conv0.conv.weight")  # the FID network has no auxiliary head


def test_loader_rejects_bad_files(torch_state, weights_file, tmp_path):
  good = convert_weights.convert(torch_state)

  def write(tensors, name="w.npz"):
    path = str(tmp_path / name)
    np.savez(path, **tensors)
    return path

  missing = dict(good)
  del missing["params/Mixed_6c/b2_3/conv/kernel"]
  with pytest.raises(UserError, match="1 missing tensors"):
    inception_fid.load_params(write(missing))
  wrong = {**good, "params/fc/kernel": good["params/fc/kernel"].T}
  with pytest.raises(UserError, match=r"params/fc/kernel has shape \(1008, 2048\)"):
    inception_fid.load_params(write(wrong))
  with pytest.raises(UserError, match="unexpected tensors"):
    inception_fid.load_params(write({**good, "params/AuxLogits/fc/kernel": np.zeros(3, np.float32)}))
  corrupt = tmp_path / "corrupt.npz"
  corrupt.write_bytes(open(weights_file, "rb").read()[:100_000])
  with pytest.raises(UserError, match="corrupt"):
    inception_fid.load_params(str(corrupt))
  with pytest.raises(UserError, match="never loaded"):
    inception_fid.load_params(str(tmp_path / "pt_inception-2015-12-05-6726825d.pth"))
  with pytest.raises(UserError, match="no such file"):
    inception_fid.load_params(str(tmp_path / "absent.npz"))
