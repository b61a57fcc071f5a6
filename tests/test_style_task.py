"""Style transfer: the Gatys style loss against its formula, the Gatys objective decreasing under Adam and
L-BFGS on tiny images with a shallow VGG, launch.stylize end to end, and a tiny Johnson et al. run."""
import json
import os
import subprocess
import sys

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from conftest import prepare_photo_folder
from PIL import Image

from configs import johnson_brick
from gans.errors import UserError
from gans.models import vgg_features
from gans.train import loop, style_task

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_style_loss_is_gatys_equation_5():
  rng = np.random.default_rng(0)
  feats = {"a": rng.normal(size=(1, 3, 4, 5)), "b": rng.normal(size=(1, 2, 2, 6))}
  targets_raw = {k: rng.normal(size=(1, 2, 3, v.shape[-1])) for k, v in feats.items()}
  expected = 0.0
  for k, f in feats.items():
    n, m = f.shape[-1], f.shape[1] * f.shape[2]  # N_l filters, M_l positions
    flat, t = f[0].reshape(m, n), targets_raw[k][0].reshape(-1, n)
    g = flat.T @ flat  # unnormalised Gram matrices; the target's normalised by its own size
    a = t.T @ t * m / t.shape[0]
    expected += np.sum((g - a) ** 2) / (4 * n ** 2 * m ** 2) / len(feats)
  targets = {k: style_task.gram_matrix(jnp.asarray(v, jnp.float32)) for k, v in targets_raw.items()}
  got = style_task.style_loss({k: jnp.asarray(v, jnp.float32) for k, v in feats.items()}, targets)
  assert float(got) == pytest.approx(expected, rel=1e-4)


def _tiny_loss():
  layers = ("relu2_1", "relu1_1")
  params, source = style_task.vgg_variables(19, layers, "")
  assert sorted(params) == ["features_0", "features_2", "features_5"] and "random" in source
  return style_task.GatysLoss(vgg_features.VGGFeatures(19, layers, "[0,1]"), "relu2_1", ("relu1_1", "relu2_1"),
                              1.0, 1e3, 1e-3), params


@pytest.mark.parametrize("optimizer,init", [("adam", "noise"), ("lbfgs", "content")])
def test_gatys_loss_decreases(optimizer, init):
  loss, params = _tiny_loss()
  rng = np.random.default_rng(1)
  content = rng.integers(0, 256, (12, 10, 3), dtype=np.uint8)
  style = rng.integers(0, 256, (8, 12, 3), dtype=np.uint8)
  seen = []
  out = style_task.gatys_transfer(content, style, loss, params, 6, optimizer, 0.01, every=1,
                                  report=lambda step, terms: seen.append((step, terms)), init=init)
  assert [s for s, _ in seen] == list(range(1, 7)) and out.shape == content.shape and out.dtype == np.uint8
  losses = [t["loss"] for _, t in seen]
  assert all(b < a for a, b in zip(losses, losses[1:])), losses
  if optimizer == "adam":
    assert losses[-1] < 0.9 * losses[0], losses
  if init == "content":  # started from the content image: no content loss yet
    assert seen[0][1]["content"] == pytest.approx(0.0, abs=1e-6) and seen[0][1]["style"] > 0
  with pytest.raises(UserError):
    style_task.gatys_transfer(content, style, loss, params, 2, "sgd")


def _run(*args):
  env = {**os.environ, "XLA_FLAGS": os.environ["GANS_TEST_XLA_FLAGS"]}
  return subprocess.run([sys.executable, "-m", *args], cwd=ROOT, env=env, capture_output=True, text=True,
                        timeout=300)


def test_stylize_end_to_end(tmp_path):
  content = tmp_path / "content.png"
  Image.fromarray(np.random.default_rng(2).integers(0, 256, (20, 14, 3), dtype=np.uint8)).save(content)
  out = tmp_path / "out" / "styled.png"
  small = ["--size", "16", "--content_layer", "relu2_1", "--style_layers", "relu1_1,relu2_1", "--every", "1"]
  proc = _run("launch.stylize", "--content", str(content), "--style", "skimage:brick", "--out", str(out),
              "--steps", "2", *small)
  assert proc.returncode == 0, proc.stderr[-2000:]
  assert "random_vgg19" in proc.stdout and "step 2/2" in proc.stdout and "step 1/2" in proc.stdout
  assert np.asarray(Image.open(out)).shape == (16, 11, 3)  # longer side 16
  missing = _run("launch.stylize", "--content", str(tmp_path / "nope.png"), "--style", "skimage:brick", "--out",
                 str(tmp_path / "x.png"), "--steps", "2", *small)
  lines = missing.stderr.strip().splitlines()
  assert missing.returncode != 0 and lines[-1].startswith("error: no image file") and "Traceback" not in missing.stderr
  unknown = _run("launch.stylize", "--content", str(content), "--style", "skimage:mona", "--out",
                 str(tmp_path / "x.png"), "--steps", "2", *small)
  assert unknown.returncode != 0 and unknown.stderr.strip().splitlines()[-1].startswith(
      "error: unknown scikit-image picture 'mona'")


@pytest.fixture(scope="module")
def photos(tmp_path_factory):
  """A tfds data dir with natural_images prepared from a few small random pictures."""
  root = tmp_path_factory.mktemp("natural_images")
  rng = np.random.default_rng(3)
  for name, h, w in [("CBSD68/a.png", 20, 24), ("CSun_Hays80/b.png", 18, 16), ("CSet5/c.png", 14, 10),
                     ("CSet14/d.png", 12, 12)]:
    (root / name).parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(rng.integers(0, 256, (h, w, 3), dtype=np.uint8)).save(root / name)
  return prepare_photo_folder(root, tmp_path_factory)


@pytest.fixture(scope="module")
def johnson_run(photos, tmp_path_factory):
  """(config, workdir, final state) of a two-step Johnson et al. run on a random style picture."""
  tmp_path = tmp_path_factory.mktemp("johnson")
  style = tmp_path / "style.png"
  Image.fromarray(np.random.default_rng(4).integers(0, 256, (24, 20, 3), dtype=np.uint8)).save(style)
  c = johnson_brick.get_config()
  assert c.task == "style_transfer" and c.style_image == "skimage:brick"
  c.update(dict(data_dir=photos, preprocess="random_crop_varying(16)|flip_lr", batch_size=2, total_steps=2,
                log_every=1, eval_every=2, checkpoint_every=2, num_devices=1, style_image=str(style),
                style_size=16, content_layer="relu1_2", style_layers=("relu1_1", "relu1_2"), eval_size=12))
  state = loop.train_and_evaluate(c, str(tmp_path / "run"))
  return c, tmp_path / "run", state


def test_johnson_task_trains_evaluates_and_translates(johnson_run):
  c, run, state = johnson_run
  lines = [json.loads(line) for line in open(run / "metrics.jsonl")]
  assert [l["step"] for l in lines if "style_loss" in l] == [1, 2]
  first = lines[0]
  assert first["loss"] == pytest.approx(1e5 * first["content_loss"] + 1e10 * first["style_loss"], rel=1e-5)
  evaluation = next(l for l in lines if "eval_style_loss" in l)
  assert evaluation["vgg_pretrained"] == 0.0 and evaluation["eval_content_loss"] >= 0
  assert os.listdir(run / "stylized" / "step_2") == ["c.png"]
  task = loop.create_task(c, loop.pipeline.data_spec(c), None)
  out = task.translate(state, np.full((10, 7, 3), 90, np.uint8))  # not multiples of 4: padded, then cropped
  assert out.shape == (10, 7, 3) and out.dtype == np.uint8
  # The Gram matrices of the style picture, as kept in the state.
  feats = task.spec.vgg.apply({"params": state.vgg}, jnp.asarray(task.style_image()[None], jnp.float32) / 255)
  np.testing.assert_allclose(np.asarray(state.style_grams["relu1_1"]),
                             np.asarray(style_task.gram_matrix(feats["relu1_1"])[0]), rtol=1e-5)
  assert max(task.style_image().shape[:2]) == 16
  # The Gram matrices are computed outside the traced init: its only convolutions are the network's own.
  convs = lambda fn: str(jax.make_jaxpr(fn)(jax.random.key(0))).count("conv_general_dilated")
  x = jnp.zeros((1, 16, 16, 3), jnp.float32)
  assert convs(task.init) == convs(lambda rng: task.spec.network.init(rng, x)) > 0
  with pytest.raises(UserError):
    task.translate(state, np.zeros((2, 7, 3), np.uint8))
  bad = c.copy_and_resolve_references()
  bad.content_layer = "relu9_9"
  with pytest.raises(UserError, match="unknown VGG-16 layer"):
    loop.create_task(bad, loop.pipeline.data_spec(bad), None)


def test_style_grid_end_to_end(johnson_run, tmp_path):
  _, run, _ = johnson_run
  content = tmp_path / "content.png"
  Image.fromarray(np.random.default_rng(5).integers(0, 256, (20, 14, 3), dtype=np.uint8)).save(content)
  out = tmp_path / "grid.png"
  proc = _run("launch.style_grid", "--contents", f"{content},skimage:coffee", "--styles", "skimage:brick",
              "--johnson", str(run), "--steps", "1", "--size", "16", "--out", str(out))
  assert proc.returncode == 0, proc.stderr[-2000:]
  assert proc.stdout.count("Gatys ") == 2 and proc.stdout.count("Johnson (") == 2
  times = json.load(open(str(out) + ".json"))
  assert times["gatys_seconds_per_image"] > 0 and times["johnson_seconds_per_image"] > 0
  assert "random_vgg19" in times["gatys_vgg19"] and "random_vgg16" in times["johnson_vgg16"][0]
  assert min(Image.open(out).size) > 3 * 16  # three rows (styles, two contents) of three columns
  nothing = _run("launch.style_grid", "--contents", str(content), "--out", str(tmp_path / "x.png"))
  assert nothing.returncode != 0 and "give --styles" in nothing.stderr
  not_style = _run("launch.style_grid", "--contents", str(content), "--johnson", str(tmp_path), "--out",
                   str(tmp_path / "x.png"))
  assert not_style.returncode != 0 and "error:" in not_style.stderr and "Traceback" not in not_style.stderr


def test_a_flat_crop_leaves_the_johnson_step_finite(johnson_run):
  c, _, state = johnson_run
  task = loop.create_task(c, loop.pipeline.data_spec(c), None)
  images = np.random.default_rng(6).integers(0, 256, (2, 16, 16, 3)).astype(np.uint8)
  images[0] = 255  # a crop of white sky
  replaced = np.asarray(style_task.replace_flat(jnp.asarray(images, jnp.float32)))
  np.testing.assert_array_equal(replaced, np.stack([images[1], images[1]]))
  np.testing.assert_array_equal(style_task.replace_flat(jnp.asarray(images[1:], jnp.float32)), images[1:])
  new, metrics = style_task.johnson_step(task.spec, state, {"image": jnp.asarray(images)}, None)
  assert all(np.isfinite(float(v)) for v in metrics.values())
  assert all(np.all(np.isfinite(np.asarray(x))) for x in jax.tree.leaves(new.params))
