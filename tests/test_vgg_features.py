"""VGG feature extractors: torchvision-named weights through safetensors / npz, the first layer against a
hand-built convolution, layer selection and naming, the seeded random stand-in."""
import hashlib
import importlib.util
import os

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from safetensors.numpy import save_file

from gans.errors import UserError
from gans.models import vgg_features


def torchvision_state(depth, seed=0):
  """Random tensors with torchvision's `vgg{depth}().features` names and PyTorch shapes, written out here."""
  cfg = {16: [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"],
         19: [64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512, "M", 512, 512, 512, 512,
              "M"]}[depth]
  rng = np.random.default_rng(seed)
  state, index, cin = {}, 0, 3
  for v in cfg:  # torchvision's make_layers: conv, ReLU (two indices) or max pool (one)
    if v == "M":
      index += 1
      continue
    state[f"features.{index}.weight"] = rng.normal(0, 0.05, (v, cin, 3, 3)).astype(np.float32)
    state[f"features.{index}.bias"] = rng.normal(0, 0.05, (v,)).astype(np.float32)
    index, cin = index + 2, v
  return state


def test_safetensors_loader_and_first_layer_by_hand(tmp_path):
  state = torchvision_state(19)
  state["classifier.0.bias"] = np.zeros(4096, np.float32)  # ignored
  path = str(tmp_path / "vgg19.safetensors")
  save_file(state, path)
  variables, sha = vgg_features.load_vgg_weights(path, depth=19)
  assert sha == hashlib.sha256(open(path, "rb").read()).hexdigest()
  assert len(variables["params"]) == 16 and variables["params"]["features_34"]["kernel"].shape == (3, 3, 512, 512)

  x = np.random.default_rng(1).uniform(-1, 1, (2, 5, 6, 3)).astype(np.float32)
  model = vgg_features.VGGFeatures(19, layers=("conv1_1", "relu1_1", "conv1_2"))
  out = model.apply(variables, jnp.asarray(x))
  assert set(out) == {"conv1_1", "relu1_1", "conv1_2"}
  normalised = ((x + 1) / 2 - np.array([0.485, 0.456, 0.406])) / np.array([0.229, 0.224, 0.225])
  padded = np.pad(normalised, ((0, 0), (1, 1), (1, 1), (0, 0)))
  w, b = state["features.0.weight"], state["features.0.bias"]  # [O, I, kh, kw], cross-correlation
  expected = np.zeros((2, 5, 6, 64)) + b
  for a in range(3):
    for c in range(3):
      expected += np.einsum("nhwi,oi->nhwo", padded[:, a:a + 5, c:c + 6], w[:, :, a, c])
  np.testing.assert_allclose(np.asarray(out["conv1_1"]), expected, rtol=1e-4, atol=1e-5)
  np.testing.assert_array_equal(np.asarray(out["relu1_1"]), np.maximum(np.asarray(out["conv1_1"]), 0))


def test_npz_loader_errors_and_input_ranges(tmp_path):
  state = torchvision_state(16, seed=2)
  path = str(tmp_path / "vgg16.npz")
  np.savez(path, **state)
  variables, _ = vgg_features.load_vgg_weights(path, depth=16)
  x = jax.random.uniform(jax.random.key(0), (1, 32, 32, 3), minval=-1, maxval=1)
  minus_one = vgg_features.VGGFeatures(16, layers=("relu4_3", "pool5")).apply(variables, x)
  zero_one = vgg_features.VGGFeatures(16, layers=("relu4_3", "pool5"), input_range="[0,1]").apply(
      variables, (x + 1) / 2)
  assert minus_one["relu4_3"].shape == (1, 4, 4, 512) and minus_one["pool5"].shape == (1, 1, 1, 512)
  np.testing.assert_allclose(np.asarray(minus_one["pool5"]), np.asarray(zero_one["pool5"]), rtol=1e-4, atol=1e-4)
  with pytest.raises(UserError, match="conv5_4"):  # VGG-16 has no conv5_4: the error lists the known names
    vgg_features.VGGFeatures(16, layers=("conv5_4",)).apply(variables, x)
  with pytest.raises(UserError):
    vgg_features.load_vgg_weights(path, depth=19)  # lacks VGG-19's extra convolutions
  del state["features.28.bias"]
  np.savez(tmp_path / "short.npz", **state)
  with pytest.raises(UserError, match="features.28.bias"):
    vgg_features.load_vgg_weights(str(tmp_path / "short.npz"), depth=16)
  state["features.28.bias"] = np.zeros(7, np.float32)
  np.savez(tmp_path / "bad.npz", **state)
  with pytest.raises(UserError, match="shape"):
    vgg_features.load_vgg_weights(str(tmp_path / "bad.npz"), depth=16)
  with pytest.raises(UserError):
    vgg_features.load_vgg_weights(str(tmp_path / "vgg16.pth"), depth=16)


def test_random_vgg_is_seeded_with_torchvision_shapes():
  shapes = vgg_features.expected_shapes(19)
  assert sum(np.prod(s) for s in shapes.values()) == 20_024_384  # torchvision vgg19().features
  assert sum(x.size for x in jax.tree.leaves(vgg_features.random_vgg19())) == 20_024_384
  a, b, c = vgg_features.random_vgg16(0), vgg_features.random_vgg16(0), vgg_features.random_vgg16(1)
  assert sum(x.size for x in jax.tree.leaves(a)) == 14_714_688  # torchvision vgg16().features
  np.testing.assert_array_equal(a["params"]["features_0"]["kernel"], b["params"]["features_0"]["kernel"])
  assert not np.allclose(a["params"]["features_0"]["kernel"], c["params"]["features_0"]["kernel"])
  # torchvision's kaiming_normal_(mode='fan_out'): std sqrt(2 / (512 * 9)) for the 512-wide convs.
  assert float(jnp.std(a["params"]["features_28"]["kernel"])) == pytest.approx((2 / (512 * 9)) ** 0.5, rel=0.02)


def test_conversion_script_writes_what_the_loader_reads(tmp_path):
  spec = importlib.util.spec_from_file_location(
      "convert_vgg", os.path.join(os.path.dirname(os.path.dirname(__file__)), "third_party", "torchvision_vgg",
                                  "convert_weights.py"))
  script = importlib.util.module_from_spec(spec)
  spec.loader.exec_module(script)
  state = torchvision_state(16, seed=3)
  state["classifier.6.weight"] = np.zeros((10, 4), np.float32)  # a torchvision state dict has these too
  tensors = script.convert({k: v.astype(np.float64) for k, v in state.items()})
  assert "classifier.6.weight" not in tensors and all(v.dtype == np.float32 for v in tensors.values())
  script.save(tensors, str(tmp_path / "vgg16.safetensors"))
  variables, _ = vgg_features.load_vgg_weights(str(tmp_path / "vgg16.safetensors"), depth=16)
  np.testing.assert_array_equal(variables["params"]["features_28"]["kernel"],
                                state["features.28.weight"].transpose(2, 3, 1, 0))


def test_random_vgg_has_the_modules_parameter_tree():
  x = jax.ShapeDtypeStruct((1, 16, 16, 3), jnp.float32)
  shapes = jax.eval_shape(vgg_features.VGGFeatures(16, layers=("conv5_3",)).init, jax.random.key(0), x)
  random = vgg_features.random_vgg16(5)
  assert jax.tree.map(lambda a: a.shape, random) == jax.tree.map(lambda a: a.shape, shapes)
