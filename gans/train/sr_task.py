"""The super-resolution task ("super_resolution"): a network learns to undo MATLAB's bicubic x`scale`
downscaling of high-resolution crops, with pixel, perceptual and adversarial losses chosen by the config.

The train batches are uint8 HR crops (e.g. `preprocess = "random_crop_varying(96)|flip_lr"` on
`natural_images`); the step makes each LR image from its crop with `bicubic_resize`, the batched JAX twin of
`gans.metrics.sr.imresize` (float64, one uint8 rounding: the evaluation's degradation, bit for bit). Images
enter the networks in [-1, 1].

Config keys (see `configs/srresnet_x4.py`, `sr_config`): `scale`; `model` (`name` in `GENERATORS` plus the
constructor's keyword arguments); `g_optimizer`; `pixel_loss` ('mse' | 'l1') and `pixel_weight`;
`perceptual_weight`, `perceptual_layer` (a `VGGFeatures` layer of VGG-19), `perceptual_distance` ('mse' | 'l1'),
`perceptual_scale` (a factor inside the loss: SRGAN's 1/12.75^2), `vgg_weights` (a converted torchvision
file; '' takes the `random_vgg19` substitute, whose features mean nothing); `adversarial` ('none' | 'gan' |
'ragan'), `adversarial_weight`, `discriminator` (options of SRGAN's D), `d_optimizer`; `init_from` (an SR
workdir whose generator starts the run, e.g. SRGAN from an MSE-trained SRResNet); `eval_splits`.

Losses: SRResNet / SRCNN / ESPCN: MSE. SRGAN (Ledig et al. 2017, sec. 2.2): VGG54 content loss (relu5_4,
"after activation, before the 5th max-pool", squared distance scaled by 1/12.75^2, sec. 3.2) + 1e-3 x the
non-saturating GAN loss. ESRGAN (Wang et al. 2018, sec. 3.2-3.3): L1 on conv5_4 features before activation
+ 5e-3 x the relativistic average GAN loss + 1e-2 x L1 pixel loss.

Evaluation: Set5 / Set14 (the `set5` / `set14` splits of `natural_images`) at the run's scale by
`gans.metrics.sr`'s protocol (HR cropped to a multiple of the scale, LR by MATLAB bicubic, PSNR / SSIM on Y,
`scale` pixels shaved); the protocol goes to DIR/eval_protocol.json.
"""
import dataclasses
import functools
import json
import os
from typing import Any

import flax
import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import optax
import tensorflow_datasets as tfds
from absl import logging
from ml_collections import ConfigDict

from gans import checkpoint, visualize
from gans.data import sources
from gans.data.pipeline import DataSpec
from gans.errors import UserError
from gans.metrics import sr as sr_metrics
from gans.models import vgg_features
from gans.models.sr import rrdbnet, srcnn, srresnet
from gans.train import optim
from gans.train.classifier_task import merge_matching
from gans.train.gan_step import NetState
from gans.train.task import TASKS, WholeStep

# name -> (constructor(scale, **options), whether it takes the bicubic-upscaled image instead of the LR one)
GENERATORS = {
    "srcnn": (lambda scale, **kw: srcnn.SRCNN(channels=3, **kw), True),
    "fsrcnn": (lambda scale, **kw: srcnn.FSRCNN(scale, channels=3, **kw), False),
    "espcn": (lambda scale, **kw: srcnn.ESPCN(scale, channels=3, **kw), False),
    "srresnet": (lambda scale, **kw: srresnet.SRResNet(scale, channels=3, **kw), False),
    "rrdbnet": (lambda scale, **kw: rrdbnet.RRDBNet(num_out_ch=3, scale=scale, **kw), False),
}
ADVERSARIAL = ("none", "gan", "ragan")
DISTANCES = ("mse", "l1")
SRGAN_VGG_SCALE = 1 / 12.75 ** 2  # Ledig et al. 2017, sec. 3.2: VGG losses rescaled to the MSE's magnitude


# --- the degradation, in JAX


def bicubic_resize(images: jax.Array, scale: float) -> jax.Array:
  """`gans.metrics.sr.imresize` of a uint8 batch [B, H, W, C]: MATLAB's bicubic (antialiased when
  shrinking), rows then columns as matrix products in float64, one rounding to uint8."""
  if images.dtype != jnp.uint8:
    raise UserError(f"bicubic_resize takes uint8 images, got {images.dtype}")
  h, w = images.shape[1:3]
  out_h, out_w = sr_metrics.output_size(h, scale), sr_metrics.output_size(w, scale)
  with jax.enable_x64(True):
    rows = jnp.asarray(sr_metrics.resize_matrix(h, out_h, scale), jnp.float64)
    cols = jnp.asarray(sr_metrics.resize_matrix(w, out_w, scale), jnp.float64)
    x = jnp.einsum("oh,bhwc->bowc", rows, images.astype(jnp.float64), precision="highest")
    x = jnp.einsum("pw,bowc->bopc", cols, x, precision="highest")
    return jnp.clip(jnp.round(x), 0, 255).astype(jnp.uint8)


def to_signed(images: jax.Array) -> jax.Array:
  """uint8 [0, 255] -> float32 [-1, 1]."""
  return images.astype(jnp.float32) / 127.5 - 1.0


def to_uint8(images) -> np.ndarray:
  """float [-1, 1] -> uint8, rounded and clipped."""
  return np.clip(np.round((np.asarray(images, np.float32) + 1.0) * 127.5), 0, 255).astype(np.uint8)


# --- losses


def distance(a: jax.Array, b: jax.Array, kind: str) -> jax.Array:
  """Mean squared ('mse') or absolute ('l1') difference, in float32."""
  d = a.astype(jnp.float32) - b.astype(jnp.float32)
  return jnp.mean(d * d) if kind == "mse" else jnp.mean(jnp.abs(d))


def gan_losses(real_logits: jax.Array, fake_logits: jax.Array) -> tuple[jax.Array, jax.Array]:
  """(D loss, G loss) of the standard GAN with G's non-saturating loss -log D(G(x)) (SRGAN, eq. 6)."""
  d_loss = jnp.mean(jax.nn.softplus(-real_logits)) + jnp.mean(jax.nn.softplus(fake_logits))
  return d_loss, jnp.mean(jax.nn.softplus(-fake_logits))


def ragan_losses(real_logits: jax.Array, fake_logits: jax.Array) -> tuple[jax.Array, jax.Array]:
  """(D loss, G loss) of the relativistic average GAN (Wang et al. 2018, sec. 3.2, eqs. 1-2):
  D_Ra(a, b) = sigmoid(C(a) - E[C(b)]);
  L_D = -E_r[log D_Ra(x_r, x_f)] - E_f[log(1 - D_Ra(x_f, x_r))];
  L_G = -E_r[log(1 - D_Ra(x_r, x_f))] - E_f[log D_Ra(x_f, x_r)]."""
  real_rel = real_logits - jnp.mean(fake_logits)
  fake_rel = fake_logits - jnp.mean(real_logits)
  # -log sigmoid(x) = softplus(-x), -log(1 - sigmoid(x)) = softplus(x)
  d_loss = jnp.mean(jax.nn.softplus(-real_rel)) + jnp.mean(jax.nn.softplus(fake_rel))
  g_loss = jnp.mean(jax.nn.softplus(real_rel)) + jnp.mean(jax.nn.softplus(-fake_rel))
  return d_loss, g_loss


ADVERSARIAL_LOSSES = {"gan": gan_losses, "ragan": ragan_losses}


# --- spec and state


@flax.struct.dataclass
class SRState:
  """The whole state: the generator, the discriminator (None without an adversarial loss) and the fixed
  VGG-19 parameters of the perceptual loss (None without one)."""
  step: jax.Array
  g: NetState
  d: Any = None
  vgg: Any = None


@dataclasses.dataclass(frozen=True)
class SRSpec:
  """Everything the SR step closes over (module docstring for the meaning of the options)."""
  generator: nn.Module
  g_tx: optax.GradientTransformation
  scale: int
  upscaled_input: bool = False
  pixel_loss: str = "mse"
  pixel_weight: float = 1.0
  perceptual: vgg_features.VGGFeatures | None = None
  perceptual_distance: str = "mse"
  perceptual_weight: float = 0.0
  perceptual_scale: float = 1.0
  discriminator: nn.Module | None = None
  d_tx: optax.GradientTransformation | None = None
  adversarial: str = "none"
  adversarial_weight: float = 0.0


def _choice(name: str, value: str, known) -> str:
  if value not in known:
    raise UserError(f"{name} must be one of {', '.join(known)}, got {value!r}")
  return value


def build_generator(model_config: ConfigDict, scale: int) -> tuple[nn.Module, bool]:
  """(the network, whether it takes the bicubic-upscaled image) from `model_config` {name, options}."""
  options = dict(model_config)
  name = options.pop("name")
  if name not in GENERATORS:
    raise UserError(f"unknown super-resolution model {name!r}; known: {', '.join(GENERATORS)}")
  make, upscaled = GENERATORS[name]
  try:
    return make(scale, **options), upscaled
  except TypeError as e:
    raise UserError(f"model {name}: {e}") from None


def build_spec(config: ConfigDict) -> SRSpec:
  """The generator, losses and optimizers named in `config`."""
  scale = config.scale
  if not isinstance(scale, int) or scale < 2:
    raise UserError(f"scale must be an integer >= 2, got {scale!r}")
  generator, upscaled = build_generator(config.model, scale)
  perceptual = None
  if config.perceptual_weight:
    layers = vgg_features.layer_names(19)
    _choice("perceptual_layer", config.perceptual_layer, layers)
    perceptual = vgg_features.VGGFeatures(19, (config.perceptual_layer,), "[-1,1]")
  adversarial = _choice("adversarial", config.adversarial, ADVERSARIAL)
  discriminator = d_tx = None
  if adversarial != "none":
    discriminator = srresnet.Discriminator(**dict(config.discriminator))
    d_tx = optim.make(config.d_optimizer, config.total_steps)
  return SRSpec(
      generator=generator, g_tx=optim.make(config.g_optimizer, config.total_steps), scale=scale,
      upscaled_input=upscaled, pixel_loss=_choice("pixel_loss", config.pixel_loss, DISTANCES),
      pixel_weight=config.pixel_weight, perceptual=perceptual,
      perceptual_distance=_choice("perceptual_distance", config.perceptual_distance, DISTANCES),
      perceptual_weight=config.perceptual_weight, perceptual_scale=config.perceptual_scale,
      discriminator=discriminator, d_tx=d_tx, adversarial=adversarial,
      adversarial_weight=config.adversarial_weight)


def network_input(spec: SRSpec, lr: jax.Array) -> jax.Array:
  """The generator's uint8 input for a uint8 LR batch: the LR images, or (SRCNN) their bicubic upscaling."""
  return bicubic_resize(lr, spec.scale) if spec.upscaled_input else lr


def _apply(module, net_params, batch_stats, x, train):
  variables = {"params": net_params, "batch_stats": batch_stats}
  if train and batch_stats:
    out, updates = module.apply(variables, x, train=True, mutable=["batch_stats"])
    return out, updates["batch_stats"]
  return module.apply(variables, x, train=train), batch_stats


def _init_net(module, tx, rng, x) -> NetState:
  variables = module.init(rng, x, train=False)
  return NetState(variables["params"], variables.get("batch_stats", {}), tx.init(variables["params"]))


def vgg_params(spec: SRSpec, weights: str) -> tuple[Any, str]:
  """The perceptual VGG-19's parameters (only the layers it runs) and what they are: the file's name and
  sha256, or the random substitute."""
  if weights:
    variables, sha256 = vgg_features.load_vgg_weights(weights, 19)
    source = f"{os.path.basename(weights)} sha256 {sha256}"
  else:
    variables, source = vgg_features.random_vgg19(0), "random_vgg19(seed 0) substitute: not perceptual"
  names = vgg_features.layer_names(19)
  last = names.index(spec.perceptual.layers[0])
  kept = {k: v for k, v in variables["params"].items() if int(k.split("_")[1]) <= last}
  return kept, source


def init_state(spec: SRSpec, rng: jax.Array, hr_shape: tuple[int, ...], vgg=None) -> SRState:
  """Fresh networks for HR crops of `hr_shape` [H, W, C]."""
  g_rng, d_rng = jax.random.split(rng)
  h, w, c = hr_shape
  lr = jnp.zeros((1, h // spec.scale, w // spec.scale, c), jnp.uint8)
  g = _init_net(spec.generator, spec.g_tx, g_rng, to_signed(network_input(spec, lr)))
  d = None
  if spec.discriminator is not None:
    d = _init_net(spec.discriminator, spec.d_tx, d_rng, jnp.zeros((1, *hr_shape)))
  return SRState(jnp.zeros((), jnp.int32), g, d, vgg)


def perceptual_loss(spec: SRSpec, vgg, sr: jax.Array, hr: jax.Array) -> jax.Array:
  """`perceptual_scale` x the distance between VGG features of the SR and HR images ([-1, 1])."""
  layer = spec.perceptual.layers[0]
  f_sr = spec.perceptual.apply({"params": vgg}, sr)[layer]
  f_hr = jax.lax.stop_gradient(spec.perceptual.apply({"params": vgg}, hr)[layer])
  return spec.perceptual_scale * distance(f_sr, f_hr, spec.perceptual_distance)


def train_step(spec: SRSpec, state: SRState, batch: dict, rng: jax.Array) -> tuple[SRState, dict]:
  """One D update (with an adversarial loss) on the HR crops and the current G's outputs, then one G update
  against the updated D. Metrics: the loss terms and the batch's RGB PSNR in dB."""
  del rng  # the step draws nothing at random
  hr8 = batch["image"]
  if hr8.dtype != jnp.uint8:
    raise UserError("the super_resolution task needs uint8 crops: its preprocessing must not change the value "
                    "range (e.g. 'random_crop_varying(96)|flip_lr')")
  hr = to_signed(hr8)
  x = to_signed(network_input(spec, bicubic_resize(hr8, 1 / spec.scale)))
  g, d = state.g, state.d
  metrics = {}
  adv_losses = ADVERSARIAL_LOSSES.get(spec.adversarial)
  if adv_losses is not None:
    fake = jax.lax.stop_gradient(_apply(spec.generator, g.params, g.batch_stats, x, True)[0])

    def d_loss_fn(params):
      real_logits, stats = _apply(spec.discriminator, params, d.batch_stats, hr, True)
      fake_logits, stats = _apply(spec.discriminator, params, stats, fake, True)
      loss = adv_losses(real_logits, fake_logits)[0]
      return loss, (stats, {"d_loss": loss, "d_real": real_logits.mean(), "d_fake": fake_logits.mean()})

    grads, (stats, d_metrics) = jax.grad(d_loss_fn, has_aux=True)(d.params)
    updates, opt_state = spec.d_tx.update(grads, d.opt_state, d.params)
    d = NetState(optax.apply_updates(d.params, updates), stats, opt_state)
    metrics.update(d_metrics)

  def g_loss_fn(params):
    sr, stats = _apply(spec.generator, params, g.batch_stats, x, True)
    terms = {"pixel_loss": distance(sr, hr, spec.pixel_loss)}
    total = spec.pixel_weight * terms["pixel_loss"]
    if spec.perceptual is not None:
      terms["perceptual_loss"] = perceptual_loss(spec, state.vgg, sr, hr)
      total += spec.perceptual_weight * terms["perceptual_loss"]
    if adv_losses is not None:  # D's statistics are not updated by G's step
      real_logits = _apply(spec.discriminator, d.params, d.batch_stats, hr, True)[0]
      fake_logits = _apply(spec.discriminator, d.params, d.batch_stats, sr, True)[0]
      terms["adversarial_loss"] = adv_losses(real_logits, fake_logits)[1]
      total += spec.adversarial_weight * terms["adversarial_loss"]
    mse = jnp.mean((jnp.clip(sr, -1, 1) - hr) ** 2) / 4  # in [0, 1] units
    return total, (stats, {"g_loss": total, "psnr": -10 * jnp.log10(jnp.maximum(mse, 1e-10)), **terms})

  grads, (stats, g_metrics) = jax.grad(g_loss_fn, has_aux=True)(g.params)
  updates, opt_state = spec.g_tx.update(grads, g.opt_state, g.params)
  g = NetState(optax.apply_updates(g.params, updates), stats, opt_state)
  metrics.update(g_metrics)
  return SRState(state.step + 1, g, d, state.vgg), metrics


def spec_forward(spec: SRSpec, g: NetState, x: jax.Array) -> jax.Array:
  """The generator in inference mode on a float batch in [-1, 1]."""
  return _apply(spec.generator, g.params, g.batch_stats, x, False)[0]


@TASKS.register("super_resolution")
class SuperResolutionTask:
  """Single-image super-resolution (`gans.train.task.Task` and `Translator`): uint8 LR in, uint8 SR out."""

  def __init__(self, config: ConfigDict, data: DataSpec, mesh=None):
    del mesh
    self.config, self.data = config, data
    self.spec = build_spec(config)
    h, w, c = data.shape
    if c != 3 or h % self.spec.scale or w % self.spec.scale:
      raise UserError(f"super_resolution needs RGB crops whose size is a multiple of scale {self.spec.scale}, got "
                      f"{data.shape} (set the crop in config.preprocess)")
    self.examples_per_step = config.batch_size
    self.step = WholeStep(functools.partial(train_step, self.spec))
    self.vgg_source = ""
    self._vgg = None
    if self.spec.perceptual is not None:
      self._vgg, self.vgg_source = vgg_params(self.spec, config.get("vgg_weights", ""))
      logging.info("perceptual loss on VGG-19 %s: %s", self.spec.perceptual.layers[0], self.vgg_source)
    self._init_g = None
    if config.get("init_from"):
      try:
        self._init_g, step = checkpoint.load_variables(config.init_from, prefer_ema=False, network="g")
      except UserError as e:
        raise UserError(f"init_from: {e}") from None
      logging.info("init_from %s: the generator of step %d", config.init_from, step)
    self._forward = jax.jit(lambda g, x: spec_forward(self.spec, g, x))
    self._eval_images = {}

  def init(self, rng: jax.Array) -> SRState:
    """Fresh state; with `config.init_from`, the generator (and its statistics) of that run."""
    state = init_state(self.spec, rng, self.data.shape, self._vgg)
    if self._init_g is None:
      return state
    params, n = merge_matching(state.g.params, self._init_g["params"])
    stats, _ = merge_matching(state.g.batch_stats, self._init_g["batch_stats"])
    if n != len(jax.tree.leaves(params)):
      raise UserError(f"init_from: {self.config.init_from}'s generator matches {n} of "
                      f"{len(jax.tree.leaves(params))} parameter tensors of model {self.config.model.name}")
    return state.replace(g=NetState(params, stats, self.spec.g_tx.init(params)))

  def translate(self, state: SRState, image: np.ndarray) -> np.ndarray:
    """uint8 [h, w, 3] (or 1 channel, repeated) -> uint8 [h*scale, w*scale, 3]."""
    image = np.asarray(image)
    image = image[..., None] if image.ndim == 2 else image
    if image.dtype != np.uint8 or image.ndim != 3 or image.shape[-1] not in (1, 3):
      raise UserError(f"super-resolution takes uint8 images [H, W, 1 or 3], got {image.dtype} {image.shape}")
    if min(image.shape[:2]) < 2:
      raise UserError(f"image of {image.shape[1]}x{image.shape[0]} pixels is too small to super-resolve")
    image = np.repeat(image, 3, axis=-1) if image.shape[-1] == 1 else image
    x = sr_metrics.imresize(image, self.spec.scale) if self.spec.upscaled_input else image
    return to_uint8(self._forward(state.g, to_signed(jnp.asarray(x[None])))[0])

  def protocol(self) -> dict:
    """How `evaluate` scores: data, degradation, metric, and the perceptual loss's VGG weights."""
    s = self.spec.scale
    return {"datasets": {split: f"{self.config.dataset}:{split}" for split in self.config.eval_splits},
            "scale": s, "model": self.config.model.name,
            "degradation": "HR cropped to a multiple of the scale; LR = MATLAB bicubic imresize(1/scale), uint8",
            "metrics": f"PSNR and SSIM (Wang et al. 2004) on Y (BT.601, 16-235), {s} pixels shaved per border, "
                       "mean over images",
            "vgg_weights": self.vgg_source or "none (no perceptual loss)"}

  def _images(self, split: str) -> list[tuple[str, np.ndarray]]:
    if split not in self._eval_images:
      builder = sources.get_builder(self.config.dataset, self.config.get("data_dir"))
      if split not in builder.info.splits:
        raise UserError(f"dataset {self.config.dataset} has no split {split!r}; known: "
                        f"{', '.join(builder.info.splits)}")
      ds = tfds.as_numpy(sources.read(builder, split))
      self._eval_images[split] = [(ex["file_name"].decode(), ex["image"]) for ex in ds]
    return self._eval_images[split]

  def evaluate(self, state: SRState, step: int, workdir: str) -> dict:
    """`<split>_psnr`, `<split>_ssim` (Y channel, dB) of every `eval_splits` split; writes the protocol to
    DIR/eval_protocol.json and the first image of the first split, super-resolved, to DIR/samples/."""
    s, results = self.spec.scale, {}
    for i, split in enumerate(self.config.eval_splits):
      scores = []
      for j, (name, hr) in enumerate(self._images(split)):
        hr = sr_metrics.modcrop(hr, s)
        out = self.translate(state, sr_metrics.imresize(hr, 1 / s))
        scores.append(sr_metrics.sr_metrics(hr, out, s))
        if i == j == 0 and jax.process_index() == 0:
          visualize.save_png(out, os.path.join(workdir, "samples", f"step_{step}_{os.path.basename(name)}"))
      results[f"{split}_psnr"] = float(np.mean([r["psnr"] for r in scores]))
      results[f"{split}_ssim"] = float(np.mean([r["ssim"] for r in scores]))
    if self.spec.perceptual is not None:  # every score carries whether its perceptual loss saw real VGG features
      results["vgg_pretrained"] = float(bool(self.config.get("vgg_weights")))
    if jax.process_index() == 0:
      with open(os.path.join(workdir, "eval_protocol.json"), "w") as f:
        json.dump(self.protocol(), f, indent=2, sort_keys=True)
    return results

