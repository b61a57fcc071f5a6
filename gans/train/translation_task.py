"""Paired image-to-image translation (`task = "translation"`): a conditional GAN trained on (input, target)
pairs made from single photographs by a registered `pairing` (`config.pairing`).

Step (Isola et al. 2017, sec. 3): the generator G maps the source to an output; D is updated first on
(source, target) as real and (source, G(source)) as fake, its loss halved as the reference implementation does;
then G minimises adv_weight * the non-saturating GAN loss under the updated D plus rec_weight * the
reconstruction error. G runs forward once (its vector-Jacobian product carries the gradient of both terms).
Dropout in G is its noise (sec. 3.1), drawn from `fold_in(rng, step)`; evaluation and `translate` run G in
inference mode (running BatchNorm statistics, no dropout), so they are deterministic.

Pairings:
- `colorize` (sec. 4.2): source L / 50 - 1 of the CIE Lab image, target (a, b) / 110; D sees [L, ab] on
  channels (the PatchGAN, conditional); L1 with weight `l1_weight` (100) and GAN weight `gan_weight` (1;
  0 trains the L1-only generator of the comparison, sec. 4.2).
- `inpaint` (Pathak et al. 2016): the context encoder (`gans.models.translation.context_encoder`) at 128 x 128.
  `mask = "centre"`: the central 64 x 64 region, shrunk by `overlap` pixels on each side, is filled with the mean
  colour; G predicts the whole centre and the L2 loss weights the `overlap` border of the centre by
  `overlap_weight` (10), as the authors' train.lua; D judges centres. `mask = "random_block"` (sec. 5): 4 blocks
  of random side in [S/8, S/4] (together at most 1/4 of the image) at random places; G's 64 x 64 output is
  upsampled 2x (bilinear) to the image, the L2 loss covers the masked pixels, and D judges the completed image
  averaged down 2x. Weights 0.999 (L2) and 0.001 (adversarial), sec. 3.3.

Config keys: `pairing`, `model` (colorize: the reference's netG, netD, n_layers_D, ngf, ndf, norm, use_dropout;
inpaint: nBottleneck, nef, ngf, ndf), `l1_weight`, `gan_weight`, `inpaint` {mask, overlap, overlap_weight, rec_weight,
adv_weight}, `g_optimizer`, `d_optimizer`, `eval_split`, `eval_size`, `eval_images`.
"""
import dataclasses
import functools
import os
from typing import Any, NamedTuple

import flax
import jax
import jax.numpy as jnp
import numpy as np
import optax
from ml_collections import ConfigDict
from PIL import Image

from gans import visualize
from gans.data import pipeline, sources
from gans.errors import UserError
from gans.metrics import image_quality
from gans.models import translation
from gans.models.translation import context_encoder, resnet_generator, unet
from gans.registry import Registry
from gans.train import optim
from gans.train.task import TASKS, WholeStep

PAIRINGS = Registry("pairing")  # name -> class(config)


class Pair(NamedTuple):
  """One training pair made from images: what G sees, what it should produce, the reconstruction weights (the
  shape of the target), and the region of the image that was hidden (inpainting) or None."""
  source: jax.Array
  target: jax.Array
  weight: jax.Array
  hidden: Any = None


def _bce(logits, real: bool):
  target = jnp.ones_like(logits) if real else jnp.zeros_like(logits)
  return optax.sigmoid_binary_cross_entropy(logits.astype(jnp.float32), target).mean()


# --- pairings


@PAIRINGS.register("colorize")
class Colorize:
  """Grey L -> colour ab in CIE Lab (Isola et al. 2017, sec. 4.2)."""
  source_channels, output_channels = 1, 2
  conditional_d = True

  def __init__(self, config: ConfigDict):
    m = config.model
    self.generator = translation.generator(m.netG, 2, m.ngf, m.norm, m.use_dropout)
    self.discriminator = translation.discriminator(m.netD, m.ndf, m.n_layers_D, m.norm)
    self.rec_weight, self.adv_weight = float(config.l1_weight), float(config.get("gan_weight", 1.0))
    self.squared = False
    multiple = {**{k: 2 ** v for k, v in unet.NUM_DOWNS.items()}, **{k: 4 for k in resnet_generator.N_BLOCKS}}
    self.size_multiple = multiple[m.netG]

  def pair(self, images, rng) -> Pair:
    del rng
    lab = image_quality.rgb_to_lab((images + 1) / 2)
    return Pair(lab[..., :1] / 50 - 1, lab[..., 1:] / 110, jnp.ones_like(lab[..., 1:]))

  def views(self, pair: Pair, output, images):
    """(the reconstruction, what D judges as fake, what D judges as real)."""
    del images
    return output, output, pair.target

  def picture(self, pair: Pair, output, images):
    """The completed RGB image in [-1, 1]: the source L with the predicted ab."""
    del images
    lab = jnp.concatenate([(pair.source + 1) * 50, output * 110], -1)
    return image_quality.lab_to_rgb(lab) * 2 - 1

  def shown_input(self, pair: Pair):
    return jnp.repeat(pair.source, 3, -1)


@PAIRINGS.register("inpaint")
class Inpaint:
  """Context -> missing region with the context encoder (Pathak et al. 2016)."""
  output_channels = 3
  conditional_d = False
  squared = True

  def __init__(self, config: ConfigDict):
    m, o = config.model, config.inpaint
    self.generator = context_encoder.ContextEncoder(3, m.nef, m.ngf, m.nBottleneck)
    self.discriminator = context_encoder.ContextDiscriminator(m.ndf)
    if o.mask not in ("centre", "random_block"):
      raise UserError(f"inpaint.mask must be 'centre' or 'random_block', got {o.mask!r}")
    if not 0 <= o.overlap < context_encoder.IMAGE_SIZE // 4:
      raise UserError(f"inpaint.overlap must be in [0, {context_encoder.IMAGE_SIZE // 4}), got {o.overlap}")
    self.mask, self.overlap, self.overlap_weight = o.mask, int(o.overlap), float(o.overlap_weight)
    self.rec_weight, self.adv_weight = float(o.rec_weight), float(o.adv_weight)
    self.source_channels, self.size_multiple = 3, None

  def centre_weights(self, size: int) -> jax.Array:
    """[size/2, size/2, 1]: overlap_weight on the `overlap` border of the centre, 1 inside (train.lua)."""
    half, o = size // 2, self.overlap
    inner = (jnp.arange(half) >= o) & (jnp.arange(half) < half - o)
    return jnp.where(inner[:, None] & inner[None, :], 1.0, self.overlap_weight)[..., None]

  def centre_hidden(self, size: int) -> jax.Array:
    """[size, size]: the filled part of the centre."""
    lo, hi = size // 4 + self.overlap, size - size // 4 - self.overlap
    inside = (jnp.arange(size) >= lo) & (jnp.arange(size) < hi)
    return inside[:, None] & inside[None, :]

  def pair(self, images, rng, mask: str | None = None) -> Pair:
    """The pair for `mask` (the configured one by default; the centre needs no rng)."""
    b, size = images.shape[0], images.shape[1]
    if (mask or self.mask) == "centre":
      hidden = jnp.broadcast_to(self.centre_hidden(size), (b, size, size))
      weight = jnp.broadcast_to(self.centre_weights(size), (b, size // 2, size // 2, 3))
      return Pair(context_encoder.fill_centre(images, self.overlap), context_encoder.centre(images), weight, hidden)
    hidden = random_blocks(rng, b, size)
    source = jnp.where(hidden[..., None], jnp.asarray(context_encoder.FILL, images.dtype), images)
    return Pair(source, images, jnp.broadcast_to(hidden[..., None], images.shape).astype(jnp.float32), hidden)

  def full_output(self, output, size: int, mask: str | None = None):
    """G's output placed on the image grid: the centre, or the whole image upsampled 2x."""
    if (mask or self.mask) == "centre":
      q = size // 4
      return jnp.pad(output, ((0, 0), (q, q), (q, q), (0, 0)))
    return jax.image.resize(output, (output.shape[0], size, size, output.shape[-1]), "bilinear")

  def views(self, pair: Pair, output, images):
    if self.mask == "centre":
      return output, output, pair.target
    completed = jnp.where(pair.hidden[..., None], self.full_output(output, images.shape[1]), images)
    halve = lambda x: x.reshape(x.shape[0], x.shape[1] // 2, 2, x.shape[2] // 2, 2, x.shape[3]).mean((2, 4))
    return self.full_output(output, images.shape[1]), halve(completed), halve(images)

  def picture(self, pair: Pair, output, images):
    return jnp.where(pair.hidden[..., None], self.full_output(output, images.shape[1]), images)

  def shown_input(self, pair: Pair):
    return pair.source


def random_blocks(rng, batch: int, size: int, num_blocks: int = 4) -> jax.Array:
  """[batch, size, size] masks of `num_blocks` possibly overlapping squares each, of side uniform in
  [size/8, size/4] and uniform position: together at most a quarter of the image (Pathak et al. 2016, sec. 5)."""
  k_side, k_y, k_x = jax.random.split(rng, 3)
  side = jax.random.randint(k_side, (batch, num_blocks), size // 8, size // 4 + 1)
  y = (jax.random.uniform(k_y, (batch, num_blocks)) * (size - side + 1)).astype(jnp.int32)
  x = (jax.random.uniform(k_x, (batch, num_blocks)) * (size - side + 1)).astype(jnp.int32)
  rows = jnp.arange(size)[None, None, :, None]
  cols = jnp.arange(size)[None, None, None, :]
  inside = ((rows >= y[..., None, None]) & (rows < (y + side)[..., None, None])
            & (cols >= x[..., None, None]) & (cols < (x + side)[..., None, None]))
  return inside.any(1)


# --- state and step


@flax.struct.dataclass
class PairedState:
  """G and D as named entries: params / batch_stats {'G', 'D'}, and one optimizer state each."""
  step: jax.Array
  params: Any
  batch_stats: Any
  g_opt_state: Any
  d_opt_state: Any


@dataclasses.dataclass(frozen=True)
class PairedSpec:
  pairing: Any
  g_tx: optax.GradientTransformation
  d_tx: optax.GradientTransformation


def _apply(module, params, stats, x, cond=None, train=True, rng=None):
  """module(x) in train mode with its BatchNorm statistics updated: (output, new statistics)."""
  variables = {"params": params, "batch_stats": stats}
  kwargs = {"cond": cond} if cond is not None else {}
  rngs = {"dropout": rng} if rng is not None else {}
  out, updates = module.apply(variables, x, train=train, mutable=["batch_stats"], rngs=rngs, **kwargs)
  return out, updates.get("batch_stats", stats)


def train_step(spec: PairedSpec, state: PairedState, batch: dict, rng) -> tuple[PairedState, dict]:
  """One D update then one G update on the pairs made from `batch['image']` (RGB in [-1, 1])."""
  p = spec.pairing
  rng = jax.random.fold_in(rng, state.step)
  pair_rng, dropout_rng = jax.random.split(rng)
  images = batch["image"].astype(jnp.float32)
  pair = p.pair(images, pair_rng)
  cond = pair.source if p.conditional_d else None
  (output, g_stats), g_vjp = jax.vjp(
      lambda params: _apply(p.generator, params, state.batch_stats["G"], pair.source, rng=dropout_rng),
      state.params["G"])

  _, fake, real = p.views(pair, jax.lax.stop_gradient(output), images)

  def d_loss_fn(d_params):
    real_logits, stats = _apply(p.discriminator, d_params, state.batch_stats["D"], real, cond)
    fake_logits, stats = _apply(p.discriminator, d_params, stats, fake, cond)
    loss = 0.5 * (_bce(real_logits, True) + _bce(fake_logits, False))
    return loss, (stats, real_logits, fake_logits)
  (d_loss, (d_stats, real_logits, fake_logits)), d_grads = jax.value_and_grad(d_loss_fn, has_aux=True)(
      state.params["D"])
  d_updates, d_opt_state = spec.d_tx.update(d_grads, state.d_opt_state, state.params["D"])
  d_params = optax.apply_updates(state.params["D"], d_updates)

  def g_loss_fn(output):
    rec, fake, _ = p.views(pair, output, images)
    logits, stats = _apply(p.discriminator, d_params, d_stats, fake, cond)
    adv = _bce(logits, True)
    err = (rec - pair.target) ** 2 if p.squared else jnp.abs(rec - pair.target)
    rec_loss = jnp.mean(pair.weight * err)
    return p.adv_weight * adv + p.rec_weight * rec_loss, (stats, adv, rec_loss)
  (g_loss, (d_stats, adv, rec_loss)), g_out_grad = jax.value_and_grad(g_loss_fn, has_aux=True)(output)
  (g_grads,) = g_vjp((g_out_grad, jax.tree.map(jnp.zeros_like, g_stats)))
  g_updates, g_opt_state = spec.g_tx.update(g_grads, state.g_opt_state, state.params["G"])
  g_params = optax.apply_updates(state.params["G"], g_updates)
  new = PairedState(state.step + 1, {"G": g_params, "D": d_params}, {"G": g_stats, "D": d_stats}, g_opt_state,
                    d_opt_state)
  metrics = {"g_loss": g_loss, "d_loss": d_loss, "g_adv": adv, "g_rec": rec_loss,
             "d_real": jax.nn.sigmoid(real_logits).mean(), "d_fake": jax.nn.sigmoid(fake_logits).mean()}
  return new, metrics


def generate(spec: PairedSpec, state: PairedState, source):
  """G's output in inference mode (running statistics, no dropout)."""
  return spec.pairing.generator.apply({"params": state.params["G"], "batch_stats": state.batch_stats["G"]},
                                      source, train=False)


# --- evaluation images


def centre_square(image: np.ndarray, size: int) -> np.ndarray:
  """The largest central square of a uint8 image [H, W, 3], resized to size x size (bicubic) if it differs."""
  h, w = image.shape[:2]
  s = min(h, w)
  crop = image[(h - s) // 2:(h - s) // 2 + s, (w - s) // 2:(w - s) // 2 + s]
  if s == size:
    return crop
  return np.asarray(Image.fromarray(crop).resize((size, size), Image.BICUBIC))


def _to_uint8(x) -> np.ndarray:
  return np.round((np.clip(np.asarray(x, np.float32), -1, 1) + 1) * 127.5).astype(np.uint8)


@TASKS.register("translation")
class TranslationTask:
  """Paired translation (`gans.train.task.Task` and `Translator`)."""

  def __init__(self, config: ConfigDict, data: pipeline.DataSpec, mesh):
    if len(data.shape) != 3 or data.shape[-1] != 3:
      raise UserError(f"the translation task makes its pairs from RGB images, got examples of shape {data.shape}")
    self.config, self.data, self.mesh = config, data, mesh
    self.pairing = PAIRINGS.get(config.pairing)(config)
    self.spec = PairedSpec(self.pairing, optim.make(config.g_optimizer, config.total_steps),
                           optim.make(config.d_optimizer, config.total_steps))
    self.examples_per_step = config.batch_size
    self.step = WholeStep(functools.partial(train_step, self.spec))
    self._generate = jax.jit(functools.partial(generate, self.spec))
    self._pair = jax.jit(self.pairing.pair)
    self._picture = jax.jit(self.pairing.picture)
    self._eval_images = None

  def init(self, rng) -> PairedState:
    g_rng, d_rng = jax.random.split(rng)
    images = jnp.zeros((1, *self.data.shape), jnp.float32)
    pair = self.pairing.pair(images, rng)
    g_vars = self.pairing.generator.init({"params": g_rng, "dropout": g_rng}, pair.source, train=False)
    output = self.pairing.generator.apply(g_vars, pair.source, train=False)
    _, fake, _ = self.pairing.views(pair, output, images)
    cond = pair.source if self.pairing.conditional_d else None
    d_vars = self.pairing.discriminator.init(d_rng, fake, **({"cond": cond} if cond is not None else {}),
                                             train=False)
    params = {"G": g_vars["params"], "D": d_vars["params"]}
    stats = {"G": g_vars.get("batch_stats", {}), "D": d_vars.get("batch_stats", {})}
    return PairedState(jnp.zeros((), jnp.int32), params, stats, self.spec.g_tx.init(params["G"]),
                       self.spec.d_tx.init(params["D"]))

  # --- Translator

  def _check_channels(self, image: np.ndarray) -> np.ndarray:
    image = np.asarray(image)
    if image.ndim == 2:
      image = image[..., None]
    allowed = (1, 3) if isinstance(self.pairing, Colorize) else (3,)
    if image.ndim != 3 or image.shape[-1] not in allowed:
      raise UserError(f"the {self.config.pairing} network takes images [H, W, C] with C in {allowed}, got shape "
                      f"{image.shape}")
    return np.repeat(image, 3, -1) if image.shape[-1] == 1 else image

  def translate(self, state, image: np.ndarray) -> np.ndarray:
    """colorize: an RGB or grey image of any size -> its colourisation (RGB; the image is padded by
    reflection to the generator's size multiple and cropped back). inpaint: an RGB image of at least
    128 x 128 -> the image with the hidden region of its central 128 x 128 crop filled by the network."""
    rgb = self._check_channels(image)
    if isinstance(self.pairing, Colorize):
      h, w = rgb.shape[:2]
      m = self.pairing.size_multiple
      padded = np.pad(rgb, ((0, -h % m), (0, -w % m), (0, 0)), mode="reflect" if min(h, w) > 1 else "edge")
      out = self._complete(state, padded[None].astype(np.float32) / 127.5 - 1)[1][0, :h, :w]
      return _to_uint8(out)
    size = context_encoder.IMAGE_SIZE
    h, w = rgb.shape[:2]
    if min(h, w) < size:
      raise UserError(f"the inpainting network takes images of at least {size} x {size}, got {w} x {h}")
    top, left = (h - size) // 2, (w - size) // 2
    crop = rgb[top:top + size, left:left + size]
    # Translation fills the centre whatever mask trained the network.
    context = jnp.asarray(crop[None], jnp.float32) / 127.5 - 1
    pair = self.pairing.pair(context, None, mask="centre")
    output = self._generate(state, pair.source)
    filled = jnp.where(pair.hidden[..., None], self.pairing.full_output(output, size, "centre"), context)
    out = rgb.copy()
    out[top:top + size, left:left + size] = _to_uint8(filled[0])
    return out

  def _complete(self, state, images, rng=None):
    """(the pair, the completed pictures in [-1, 1]) for RGB images in [-1, 1]."""
    pair = self._pair(jnp.asarray(images), rng if rng is not None else jax.random.key(0))
    output = self._generate(state, pair.source)
    return pair, self._picture(pair, output, jnp.asarray(images))

  # --- evaluation

  def _load_eval(self) -> np.ndarray:
    if self._eval_images is None:
      split = self.config.get("eval_split", "set14")
      builder = sources.get_builder(self.config.dataset, self.config.get("data_dir"))
      if split not in builder.info.splits:
        raise UserError(f"dataset {self.config.dataset} has no split {split!r}; known: "
                        f"{', '.join(builder.info.splits)}")
      ds = sources.read(builder, split)
      size = self.config.get("eval_size", self.data.shape[0])
      images = [centre_square(ex["image"], size) for ex in ds.as_numpy_iterator()]
      self._eval_images = np.stack(images[:self.config.get("eval_images", len(images))])
    return self._eval_images

  def evaluate(self, state, step: int, workdir: str) -> dict:
    """Scores on `eval_split` (set14), each image's central square at `eval_size`; input | output | original
    rows written to workdir/translations/step_<N>.png.

    colorize: PSNR / SSIM of the colourised images against the originals (RGB, 0-255), beside those of the grey
    image itself; colourfulness (Hasler & Suesstrunk 2003) of outputs, originals and grey images.
    inpaint: PSNR / SSIM over the hidden region, and the same for scikit-image's biharmonic inpainting.
    """
    originals = self._load_eval()
    split = self.config.get("eval_split", "set14")
    pair, pictures = self._complete(state, originals.astype(np.float32) / 127.5 - 1,
                                    jax.random.key(self.config.seed))
    outputs, shown = _to_uint8(pictures), _to_uint8(self.pairing.shown_input(pair))
    results = {}
    if isinstance(self.pairing, Colorize):
      score = lambda xs: {"psnr": np.mean([image_quality.region_psnr(x, o) for x, o in zip(xs, originals)]),
                          "ssim": np.mean([image_quality.region_ssim(x, o) for x, o in zip(xs, originals)]),
                          "colourfulness": np.mean([image_quality.colourfulness(x) for x in xs])}
      for name, images in (("", outputs), ("grey_", shown)):
        results.update({f"{split}_{name}{k}": float(v) for k, v in score(images).items()})
      results[f"{split}_original_colourfulness"] = float(np.mean([image_quality.colourfulness(o)
                                                                  for o in originals]))
    else:
      hidden = np.asarray(pair.hidden)
      results[f"{split}_psnr"] = float(np.mean([image_quality.region_psnr(x, o, m)
                                                for x, o, m in zip(outputs, originals, hidden)]))
      results[f"{split}_ssim"] = float(np.mean([image_quality.region_ssim(x, o, m)
                                                for x, o, m in zip(outputs, originals, hidden)]))
      baseline = image_quality.biharmonic_baseline(originals, hidden)
      results[f"{split}_biharmonic_psnr"] = baseline["psnr"]
      results[f"{split}_biharmonic_ssim"] = baseline["ssim"]
    if jax.process_index() == 0:
      rows = np.stack([shown, outputs, originals], 1).reshape(-1, *originals.shape[1:])
      visualize.save_png(visualize.image_grid(rows.astype(np.float32) / 127.5 - 1, ncols=3),
                         os.path.join(workdir, "translations", f"step_{step}.png"))
    return results

