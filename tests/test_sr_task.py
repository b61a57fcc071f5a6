"""The super_resolution task: the JAX bicubic degradation against the numpy protocol, the RaGAN and GAN
losses against their formulas, the VGG content loss by hand, tiny SRCNN / SRResNet / SRGAN runs on a fake
photograph directory (training, init_from, evaluation, translation) and network interpolation."""
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

from configs import espcn_x4, esrgan_x4, srcnn_x4, srgan_x4, srresnet_x4
from gans import runs
from gans.data import natural_images
from gans.errors import UserError
from gans.metrics import sr as sr_metrics
from gans.models import vgg_features
from gans.train import loop, sr_task

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CONTRACT = ("total_steps", "batch_size", "seed", "dataset", "log_every", "checkpoint_every", "eval_every")


@pytest.mark.parametrize("scale", [1 / 4, 1 / 3, 1 / 2, 2, 3, 4])
def test_bicubic_resize_equals_the_numpy_imresize(scale):
  rng = np.random.default_rng(0)
  images = rng.integers(0, 256, (2, 26, 21, 3), dtype=np.uint8)
  images[1] = np.clip(np.arange(21)[None, :, None] * 12 + np.arange(26)[:, None, None], 0, 255)  # smooth ramps
  out = np.asarray(jax.jit(lambda x: sr_task.bicubic_resize(x, scale))(jnp.asarray(images)))
  for image, resized in zip(images, out):
    np.testing.assert_array_equal(resized, sr_metrics.imresize(image, scale))


@pytest.mark.skipif(not os.path.isdir(os.path.join(os.environ.get(natural_images.DIR_ENV, ""), "CSet5")),
                    reason="no natural_images data")
def test_bicubic_resize_equals_numpy_on_set5():
  for hr in sr_metrics.read_images(os.path.join(os.environ[natural_images.DIR_ENV], "CSet5")):
    hr = sr_metrics.modcrop(hr, 4)
    lr = np.asarray(sr_task.bicubic_resize(jnp.asarray(hr[None]), 1 / 4))[0]
    np.testing.assert_array_equal(lr, sr_metrics.imresize(hr, 1 / 4))
    np.testing.assert_array_equal(np.asarray(sr_task.bicubic_resize(jnp.asarray(lr[None]), 4))[0],
                                  sr_metrics.imresize(lr, 4))


def _sigmoid(x):
  return 1 / (1 + np.exp(-x))


def test_ragan_losses_match_the_formula():
  rng = np.random.default_rng(1)
  real, fake = rng.normal(size=5), rng.normal(size=7) - 1
  d_loss, g_loss = sr_task.ragan_losses(jnp.asarray(real), jnp.asarray(fake))
  # Wang et al. 2018, eqs. 1-2, one term per example.
  d_ra_real = [_sigmoid(r - fake.mean()) for r in real]
  d_ra_fake = [_sigmoid(f - real.mean()) for f in fake]
  expected_d = -np.mean(np.log(d_ra_real)) - np.mean(np.log(1 - np.array(d_ra_fake)))
  expected_g = -np.mean(np.log(1 - np.array(d_ra_real))) - np.mean(np.log(d_ra_fake))
  assert float(d_loss) == pytest.approx(expected_d, rel=1e-5)
  assert float(g_loss) == pytest.approx(expected_g, rel=1e-5)
  # Only the difference to the other batch's mean counts: shifting every logit changes nothing.
  shifted = sr_task.ragan_losses(jnp.asarray(real + 3), jnp.asarray(fake + 3))
  assert float(shifted[0]) == pytest.approx(expected_d, rel=1e-5)


def test_gan_losses_match_the_formula():
  real, fake = np.array([0.5, -1.0, 2.0]), np.array([-0.3, 1.5])
  d_loss, g_loss = sr_task.gan_losses(jnp.asarray(real), jnp.asarray(fake))
  expected_d = -np.mean(np.log(_sigmoid(real))) - np.mean(np.log(1 - _sigmoid(fake)))
  assert float(d_loss) == pytest.approx(expected_d, rel=1e-5)
  assert float(g_loss) == pytest.approx(-np.mean(np.log(_sigmoid(fake))), rel=1e-5)


def _conv3x3_relu(x, kernel, bias):
  """A 'same' 3x3 convolution (zero padding) and ReLU, one tap at a time."""
  h, w = x.shape[1:3]
  padded = np.pad(x, ((0, 0), (1, 1), (1, 1), (0, 0)))
  out = np.zeros((*x.shape[:3], kernel.shape[-1]))
  for dy in range(3):
    for dx in range(3):
      out += np.einsum("bhwc,co->bhwo", padded[:, dy:dy + h, dx:dx + w], kernel[dy, dx])
  return np.maximum(out + bias, 0)


def test_vgg_content_loss_by_hand():
  spec = sr_task.SRSpec(generator=None, g_tx=None, scale=4,
                        perceptual=vgg_features.VGGFeatures(19, ("relu1_1",), "[-1,1]"),
                        perceptual_distance="mse", perceptual_scale=sr_task.SRGAN_VGG_SCALE)
  vgg, source = sr_task.vgg_params(spec, "")
  assert list(vgg) == ["features_0"] and "random" in source  # only the layers the loss runs
  rng = np.random.default_rng(2)
  sr, hr = rng.uniform(-1, 1, (2, 6, 5, 3)), rng.uniform(-1, 1, (2, 6, 5, 3))
  loss = sr_task.perceptual_loss(spec, vgg, jnp.asarray(sr, jnp.float32), jnp.asarray(hr, jnp.float32))

  def features(x):
    x = ((x + 1) / 2 - np.array(vgg_features.IMAGENET_MEAN)) / np.array(vgg_features.IMAGENET_STD)
    return _conv3x3_relu(x, np.asarray(vgg["features_0"]["kernel"]), np.asarray(vgg["features_0"]["bias"]))

  expected = np.mean((features(sr) - features(hr)) ** 2) / 12.75 ** 2
  assert float(loss) == pytest.approx(expected, rel=1e-4)


def test_the_configs_build_with_the_contract_keys():
  for module in (srcnn_x4, espcn_x4, srresnet_x4, srgan_x4, esrgan_x4):
    c = module.get_config()
    assert all(k in c for k in CONTRACT) and c.task == "super_resolution" and c.scale == 4
    sr_task.build_spec(c)
  srgan, esrgan = srgan_x4.get_config(), esrgan_x4.get_config()
  assert (srgan.perceptual_layer, srgan.perceptual_scale, srgan.adversarial_weight) == ("relu5_4", 1 / 12.75 ** 2, 1e-3)
  assert (esrgan.perceptual_layer, esrgan.perceptual_weight, esrgan.adversarial, esrgan.adversarial_weight,
          esrgan.pixel_loss, esrgan.pixel_weight) == ("conv5_4", 1.0, "ragan", 5e-3, "l1", 1e-2)
  bad = srcnn_x4.get_config()
  bad.model.name = "edsr"
  with pytest.raises(UserError, match="unknown super-resolution model 'edsr'; known: srcnn"):
    sr_task.build_spec(bad)


# --- tiny runs on a fake photograph directory

# (relative path, height, width): train crops of 16 come from images of 16-30 pixels; evaluation images
# share one size, so evaluation compiles once.
FAKE = [("CBSD68/a.png", 24, 30), ("CBSD68/b.png", 16, 20), ("CSun_Hays80/c.png", 20, 16),
        ("CSun_Hays80/d.png", 28, 22), ("CSet5/baby.png", 36, 40), ("CSet5/bird.png", 36, 40),
        ("CSet14/lenna.png", 36, 40)]


@pytest.fixture(scope="module")
def photo_root(tmp_path_factory):
  """A natural_images-style folder of smooth random photographs (with SHA256SUMS once `photos` ran)."""
  root = tmp_path_factory.mktemp("natural_images")
  rng = np.random.default_rng(3)
  for name, h, w in FAKE:
    path = root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    coarse = rng.integers(0, 256, (h // 4 + 2, w // 4 + 2, 3), dtype=np.uint8)
    Image.fromarray(coarse).resize((w, h), Image.BILINEAR).save(path)
  return root


@pytest.fixture(scope="module")
def photos(photo_root, tmp_path_factory):
  """A tfds data dir with natural_images prepared from `photo_root`."""
  return prepare_photo_folder(photo_root, tmp_path_factory)


def _tiny(module, data_dir, **overrides):
  c = module.get_config()
  c.update(dict(data_dir=data_dir, preprocess="random_crop_varying(16)|flip_lr", batch_size=2, total_steps=2,
                log_every=1, eval_every=2, checkpoint_every=2, num_devices=1, **overrides))
  return c


@pytest.fixture(scope="module")
def srresnet_run(photos, tmp_path_factory):
  workdir = str(tmp_path_factory.mktemp("srresnet"))
  c = _tiny(srresnet_x4, photos, eval_splits=("set5",))
  c.model.update(n_blocks=1, n_channels=8)
  loop.train_and_evaluate(c, workdir)
  return workdir


@pytest.fixture(scope="module")
def srgan_run(photos, srresnet_run, tmp_path_factory):
  workdir = str(tmp_path_factory.mktemp("srgan"))
  c = _tiny(srgan_x4, photos, init_from=srresnet_run, perceptual_layer="relu1_2", eval_splits=("set5",))
  c.model.update(n_blocks=1, n_channels=8)
  c.discriminator.update(n_blocks=2, n_channels=8, fc_size=16)
  loop.train_and_evaluate(c, workdir)
  return workdir


def _metrics(workdir):
  return [json.loads(line) for line in open(os.path.join(workdir, "metrics.jsonl"))]


def test_srcnn_trains_evaluates_and_translates(photos, tmp_path):
  c = _tiny(srcnn_x4, photos)
  c.model.update(n1=8, n2=4)
  loop.train_and_evaluate(c, str(tmp_path))
  lines = _metrics(tmp_path)
  assert [l["step"] for l in lines if "pixel_loss" in l] == [1, 2]
  evaluation = [l for l in lines if "set5_psnr" in l]
  assert len(evaluation) == 1 and set(evaluation[0]) == {"step", "set5_psnr", "set5_ssim", "set14_psnr",
                                                         "set14_ssim"}
  protocol = json.load(open(tmp_path / "eval_protocol.json"))
  assert protocol["scale"] == 4 and "shaved" in protocol["metrics"] and "bicubic" in protocol["degradation"]
  # launch.evaluate's path: the task's own evaluation of the latest checkpoint.
  result = runs.evaluate_workdir(str(tmp_path))
  assert result["step"] == 2 and result["set5_psnr"] == pytest.approx(evaluation[0]["set5_psnr"])
  _, task, state, _ = runs.restore_task(str(tmp_path))
  out = task.translate(state, np.full((9, 7, 3), 100, np.uint8))
  assert out.shape == (36, 28, 3) and out.dtype == np.uint8
  assert task.translate(state, np.full((9, 7), 100, np.uint8)).shape == (36, 28, 3)  # grey: repeated
  with pytest.raises(UserError):
    task.translate(state, np.zeros((9, 7, 4), np.uint8))


def test_srgan_starts_from_the_srresnet_run_and_trains(srresnet_run, srgan_run):
  _, _, psnr_state, _ = runs.restore_task(srresnet_run)
  config, task, state, step = runs.restore_task(srgan_run)
  assert step == 2 and state.d is not None and list(state.vgg) == ["features_0", "features_2"]
  lines = _metrics(srgan_run)
  first = next(l for l in lines if l["step"] == 1)
  assert {"d_loss", "perceptual_loss", "adversarial_loss"} <= set(first) and first["g_loss"] == pytest.approx(
      first["perceptual_loss"] * 1.0 + 1e-3 * first["adversarial_loss"], rel=1e-5)
  assert next(l for l in lines if "set5_psnr" in l)["vgg_pretrained"] == 0.0
  # init_from: the first step's generator is the SRResNet run's; a fresh init would differ.
  fresh = task.init(jax.random.key(config.seed))
  for a, b in zip(jax.tree.leaves(fresh.g.params), jax.tree.leaves(psnr_state.g.params)):
    np.testing.assert_array_equal(np.asarray(a), np.asarray(b))


def test_init_from_another_architecture_is_a_user_error(photos, srresnet_run):
  c = _tiny(srcnn_x4, photos, init_from=srresnet_run)
  with pytest.raises(UserError, match="init_from"):
    loop.create_task(c, loop.pipeline.data_spec(c), None).init(jax.random.key(0))


def test_interpolation_at_0_and_1_gives_the_endpoints(srresnet_run, srgan_run, tmp_path):
  _, _, a, _ = runs.restore_task(srresnet_run)
  _, _, b, _ = runs.restore_task(srgan_run)
  for alpha, expected in ((0.0, a), (1.0, b)):
    out = str(tmp_path / f"alpha{alpha}")
    runs.interpolate_runs(srresnet_run, srgan_run, alpha, out)
    config, _, state, _ = runs.restore_task(out)
    assert config.interpolation.alpha == alpha
    for x, y in zip(jax.tree.leaves(state.g.params), jax.tree.leaves(expected.g.params)):
      np.testing.assert_array_equal(np.asarray(x), np.asarray(y))
  out = str(tmp_path / "half")
  runs.interpolate_runs(srresnet_run, srgan_run, 0.5, out)
  _, _, half, _ = runs.restore_task(out)
  x, y, z = (np.asarray(jax.tree.leaves(s.g.params)[0]) for s in (a, b, half))
  np.testing.assert_allclose(z, (x + y) / 2, rtol=1e-6)
  with pytest.raises(UserError, match="already holds a run"):
    runs.interpolate_runs(srresnet_run, srgan_run, 0.5, out)
  with pytest.raises(UserError, match="alpha"):
    runs.interpolate_runs(srresnet_run, srgan_run, 1.5, str(tmp_path / "bad"))


def test_super_resolution_panels_crop_each_output_of_the_evaluation_input(photo_root, srresnet_run, srgan_run):
  hr = natural_images.load_image(str(photo_root / "CSet5/baby.png"))  # 36 x 40: a multiple of 4
  panels = runs.super_resolution_panels(hr, {"a": srresnet_run, "b": srgan_run}, (4, 8, 16))
  assert [name for name, _, _ in panels] == ["bicubic", "a", "b", "original"]
  lr = sr_metrics.imresize(hr, 1 / 4)
  bicubic = sr_metrics.imresize(lr, 4)
  _, task, state, _ = runs.restore_task(srgan_run)
  expected = [bicubic, None, task.translate(state, lr), hr]
  for (_, crop, score), full in zip(panels, expected):
    assert crop.shape == (16, 16, 3) and crop.dtype == np.uint8
    if full is not None:
      np.testing.assert_array_equal(crop, full[4:20, 8:24])
  assert panels[0][2] == sr_metrics.sr_metrics(hr, bicubic, 4)
  assert panels[2][2]["psnr"] == pytest.approx(sr_metrics.sr_metrics(hr, expected[2], 4)["psnr"])
  with pytest.raises(UserError, match="does not fit"):
    runs.super_resolution_panels(hr, {"a": srresnet_run}, (30, 0, 16))


def test_sr_crops_end_to_end(photo_root, photos, srresnet_run, srgan_run, tmp_path):
  del photos  # writes the SHA256SUMS that <split>:<name> is checked against
  out = tmp_path / "crops.png"
  proc = _launch(photo_root, "launch.sr_crops", "--image", "set5:baby", "--runs",
                 f"SRResNet={srresnet_run},SRGAN={srgan_run}", "--box", "4,8,16", "--zoom", "2", "--out", str(out))
  assert proc.returncode == 0, proc.stderr
  assert [line.split(":")[0] for line in proc.stdout.splitlines()[:4]] == ["bicubic", "SRResNet", "SRGAN",
                                                                           "original"]
  assert Image.open(out).size[0] > 4 * 32  # four 32-pixel panels side by side
  missing = _launch(photo_root, "launch.sr_crops", "--image", "set5:nope", "--runs", f"a={srresnet_run}",
                    "--box", "0,0,8", "--out", str(tmp_path / "x.png"))
  assert missing.returncode != 0 and "no image 'nope' in natural_images set5; known: baby, bird" in missing.stderr
  bad_box = _launch(photo_root, "launch.sr_crops", "--image", "set5:baby", "--runs", f"a={srresnet_run}",
                    "--box", "0,8", "--out", str(tmp_path / "x.png"))
  assert bad_box.returncode != 0 and "--box takes top,left,size" in bad_box.stderr


def _launch(photo_root, *args):
  env = {**os.environ, "XLA_FLAGS": os.environ["GANS_TEST_XLA_FLAGS"],
         natural_images.DIR_ENV: str(photo_root)}
  return subprocess.run([sys.executable, "-m", *args], cwd=ROOT, env=env, capture_output=True, text=True,
                        timeout=300)
