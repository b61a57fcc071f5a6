"""Paired translation: Lab conversion against scikit-image, colourfulness and region PSNR by hand, the
inpainting masks and weights, and a 2-step colourisation run with its evaluation and translation."""
import functools
import json
import os

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from skimage.color import lab2rgb, rgb2lab

from configs import colorize_natural_images, inpaint_natural_images
from gans import parallel
from gans.data import pipeline
from gans.errors import UserError
from gans.metrics import image_quality
from gans.models.translation import context_encoder, unet
from gans.train import loop, translation_task

needs_photos = pytest.mark.skipif(not os.environ.get("GANS_NATURAL_IMAGES_DIR"),
                                  reason="the offline photographs ($GANS_NATURAL_IMAGES_DIR) are not here")


def test_lab_conversion_matches_scikit_image_on_random_pixels():
  rng = np.random.default_rng(0)
  rgb = rng.random((2000, 3))
  rgb[:20] = rng.random((20, 3)) * 0.03  # the linear segments of companding and of the cube root
  np.testing.assert_allclose(np.asarray(image_quality.rgb_to_lab(rgb)), rgb2lab(rgb), atol=2e-4)
  lab = np.stack([rng.uniform(0, 100, 2000), rng.uniform(-100, 100, 2000), rng.uniform(-100, 100, 2000)], -1)
  with np.errstate(all="ignore"), pytest.warns(UserWarning):  # scikit-image warns of out-of-gamut colours
    expected = lab2rgb(lab)
  np.testing.assert_allclose(np.asarray(image_quality.lab_to_rgb(lab)), expected, atol=2e-5)


def test_colourfulness_by_hand():
  image = np.array([[[255, 0, 0], [0, 0, 255]]], np.uint8)  # red, blue
  # rg = (255, 0), yb = (127.5, -255): var rg = 127.5^2, mean yb = -63.75, var yb = 191.25^2
  sigma = (127.5 ** 2 + 191.25 ** 2) ** 0.5
  mu = (127.5 ** 2 + 63.75 ** 2) ** 0.5
  assert image_quality.colourfulness(image) == pytest.approx(sigma + 0.3 * mu)
  assert image_quality.colourfulness(np.full((4, 4, 3), 90, np.uint8)) == 0.0
  with pytest.raises(UserError, match="RGB image"):
    image_quality.colourfulness(np.zeros((4, 4, 1)))


def test_region_psnr_and_ssim_see_only_the_region():
  rng = np.random.default_rng(1)
  a = rng.integers(0, 256, (40, 40, 3)).astype(np.float64)
  b = a.copy()
  mask = np.zeros((40, 40), bool)
  mask[5:15, 5:15] = True
  b[mask] += 10
  assert image_quality.region_psnr(a, b, mask) == pytest.approx(10 * np.log10(255 ** 2 / 100))
  assert image_quality.region_psnr(a, b) == pytest.approx(10 * np.log10(255 ** 2 / (100 * 100 / 1600)))
  far = np.zeros((40, 40), bool)
  far[30:, 30:] = True
  inverted = a.copy()
  inverted[mask] = 255 - inverted[mask]
  assert image_quality.region_ssim(a, inverted, far) == pytest.approx(1.0)
  assert image_quality.region_ssim(a, inverted, mask) < 0.5
  with pytest.raises(UserError, match="empty"):
    image_quality.region_psnr(a, b, np.zeros((40, 40), bool))


def test_biharmonic_baseline_scores_the_masked_region():
  y, x = np.mgrid[0:32, 0:32]
  smooth = np.stack([4 * x + 40, 4 * y + 40, 2 * (x + y) + 60], -1).astype(np.uint8)[None]
  mask = np.zeros((1, 32, 32), bool)
  mask[0, 10:20, 12:22] = True
  scores = image_quality.biharmonic_baseline(smooth, mask)
  assert scores["psnr"] > 40  # a linear ramp is harmonic: filled almost exactly
  np.testing.assert_array_equal(scores["images"][0][~mask[0]], smooth[0][~mask[0]])


def _inpaint(mask="centre"):
  c = inpaint_natural_images.get_config()
  c.model.update(nBottleneck=8, nef=4, ngf=4, ndf=4)
  c.inpaint.mask = mask
  return translation_task.PAIRINGS.get("inpaint")(c)


def test_centre_pair_fills_the_centre_and_weights_its_border():
  pairing = _inpaint()
  images = jax.random.uniform(jax.random.key(0), (2, 128, 128, 3), minval=-1, maxval=1)
  pair = pairing.pair(images, None)
  hidden = np.asarray(pair.hidden)
  assert hidden.sum() == 2 * 56 * 56 and hidden[:, 36:92, 36:92].all()
  src = np.asarray(pair.source)
  fill = np.broadcast_to(np.asarray(context_encoder.FILL), (2 * 56 * 56, 3))
  np.testing.assert_allclose(src[hidden], fill, atol=1e-6)
  np.testing.assert_array_equal(src[~hidden], np.asarray(images)[~hidden])
  np.testing.assert_array_equal(np.asarray(pair.target), np.asarray(images)[:, 32:96, 32:96])
  weight = np.asarray(pair.weight)[0, :, :, 0]
  assert weight.sum() == 56 * 56 + 10 * (64 * 64 - 56 * 56) and weight[4, 4] == 1 and weight[3, 30] == 10


def test_random_blocks_cover_at_most_a_quarter():
  masks = np.asarray(translation_task.random_blocks(jax.random.key(1), 64, 128))
  coverage = masks.mean((1, 2))
  assert coverage.max() <= 0.25 and coverage.min() >= 16 * 16 / 128 ** 2
  assert not np.array_equal(masks[0], masks[1])
  np.testing.assert_array_equal(masks, np.asarray(translation_task.random_blocks(jax.random.key(1), 64, 128)))
  pair = _inpaint("random_block").pair(jnp.zeros((64, 128, 128, 3)), jax.random.key(1))
  np.testing.assert_array_equal(np.asarray(pair.hidden), masks)


def _tiny_colorize():
  c = colorize_natural_images.get_config()
  c.num_devices = 1
  c.preprocess = "random_crop_varying(32)|flip_lr|value_range(-1,1)"
  c.model.update(netG="resnet_6blocks", ngf=4, ndf=4, netD="n_layers", n_layers_D=1)
  c.batch_size, c.eval_size, c.eval_images = 2, 32, 3
  c.total_steps, c.log_every, c.eval_every, c.checkpoint_every = 2, 1, 2, 2
  return c


@needs_photos
def test_two_step_colourisation_run_evaluates_and_translates(data_dir, tmp_path):
  config = _tiny_colorize()
  state = loop.train_and_evaluate(config, str(tmp_path))
  lines = [json.loads(line) for line in open(tmp_path / "metrics.jsonl")]
  final = lines[-1]
  assert final["step"] == 2
  for key in ("psnr", "ssim", "colourfulness", "grey_psnr", "grey_ssim", "grey_colourfulness",
              "original_colourfulness"):
    assert np.isfinite(final[f"set14_{key}"]), key
  assert final["set14_grey_colourfulness"] == pytest.approx(0, abs=0.5) and final["set14_original_colourfulness"] > 10
  assert os.path.exists(tmp_path / "translations" / "step_2.png")
  task = loop.create_task(config, pipeline.data_spec(config), parallel.mesh_from_config(config))
  grey = np.random.default_rng(0).integers(0, 256, (37, 45, 1), np.uint8)
  out = task.translate(state, grey)
  assert out.shape == (37, 45, 3) and out.dtype == np.uint8
  # The L channel comes through: the output's lightness is the input's (to rounding and gamut clipping).
  lightness = rgb2lab(out / 255.0)[..., 0]
  np.testing.assert_allclose(lightness, rgb2lab(np.repeat(grey, 3, -1) / 255.0)[..., 0], atol=12)
  assert task.translate(state, np.repeat(grey, 3, -1)).shape == (37, 45, 3)
  with pytest.raises(UserError, match="C in"):
    task.translate(state, np.zeros((8, 8, 2), np.uint8))


@pytest.mark.parametrize("gan_weight", [1.0, 0.0])
def test_generator_gradient_through_the_single_forward_pass_equals_the_direct_gradient(gan_weight):
  """The step's G update (SGD, rate 1) is minus the gradient of gan_weight * adv + 100 L1 under the updated D,
  computed here directly, with the step's dropout key (gan_weight 0: the L1-only generator)."""
  config = _tiny_colorize()
  config.gan_weight = gan_weight
  config.model.norm = "instance"
  pairing = translation_task.PAIRINGS.get("colorize")(config)
  pairing.generator = unet.UnetGenerator(6, 2, 4, "instance", use_dropout=True)  # dropout: the key must match
  spec = translation_task.PairedSpec(pairing, optax.sgd(1.0), optax.sgd(1e-2))
  images = jax.random.uniform(jax.random.key(0), (2, 64, 64, 3), minval=-1, maxval=1)
  pair = pairing.pair(images, None)
  g_vars = pairing.generator.init(jax.random.key(1), pair.source, train=False)
  d_vars = pairing.discriminator.init(jax.random.key(2), pair.target, cond=pair.source, train=False)
  params, stats = {"G": g_vars["params"], "D": d_vars["params"]}, {"G": {}, "D": {}}
  state = translation_task.PairedState(jnp.int32(5), params, stats, spec.g_tx.init(params["G"]),
                                       spec.d_tx.init(params["D"]))
  rng = jax.random.key(9)
  new, _ = jax.jit(functools.partial(translation_task.train_step, spec))(state, {"image": images}, rng)
  _, dropout_rng = jax.random.split(jax.random.fold_in(rng, 5))

  def loss(g_params):
    out = pairing.generator.apply({"params": g_params}, pair.source, train=True, rngs={"dropout": dropout_rng})
    logits = pairing.discriminator.apply({"params": new.params["D"]}, out, cond=pair.source, train=True)
    adv = optax.sigmoid_binary_cross_entropy(logits, jnp.ones_like(logits)).mean()
    return gan_weight * adv + 100.0 * jnp.abs(out - pair.target).mean()
  expected = jax.jit(jax.grad(loss))(params["G"])
  step_grad = jax.tree.map(lambda old, updated: old - updated, params["G"], new.params["G"])
  for e, g in zip(jax.tree.leaves(expected), jax.tree.leaves(step_grad)):
    np.testing.assert_allclose(np.asarray(g), np.asarray(e), rtol=2e-3, atol=1e-6)
  assert not np.allclose(np.asarray(jax.tree.leaves(new.params["D"])[0]), np.asarray(jax.tree.leaves(params["D"])[0]))
