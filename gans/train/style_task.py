"""Neural style transfer: Gatys et al. 2016's optimisation of one image (`gatys_transfer`, used by
`launch.stylize`) and Johnson et al. 2016's feed-forward network trained for one style (the "style_transfer"
task, a `Translator`).

Both measure content by VGG feature maps and style by their Gram matrices (`style_transfer.gram_matrix`,
normalised by C H W). VGG weights come from a converted torchvision file (`vgg_weights`); without one the
`random_vgg*` substitute runs the same code, but its features are not perceptual and neither is the result.

Johnson task config keys (see `configs/johnson_brick.py`): `style_image` (a PNG/JPEG path or
`skimage:<name>`, one of scikit-image's data images), `style_size` (its longer side after resizing),
`content_layer`, `style_layers` (VGG-16 layer names), `content_weight`, `style_weight`, `tv_weight`,
`vgg_weights`, `optimizer`, `eval_split` (natural_images images stylised at evaluation). The network works
on 0-255 images (as pytorch/examples' fast_neural_style); the train batches are uint8 crops.
"""
import dataclasses
import functools
import os
from typing import Any, Callable, Sequence

import flax
import jax
import jax.numpy as jnp
import numpy as np
import optax
import tensorflow_datasets as tfds
from absl import logging
from ml_collections import ConfigDict
from PIL import Image

from gans import visualize
from gans.data import natural_images, sources
from gans.data.pipeline import DataSpec
from gans.errors import UserError
from gans.models import vgg_features
from gans.models.style_transfer import TransformerNet, gram_matrix
from gans.train import optim
from gans.train.task import TASKS, WholeStep

SKIMAGE_STYLES = ("astronaut", "brick", "chelsea", "coffee", "grass", "gravel")
# Gatys et al. 2016, sec. 2: content on conv4_2, style on conv1_1 .. conv5_1 (their rectified responses)
GATYS_CONTENT = "relu4_2"
GATYS_STYLE = ("relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1")
# Johnson et al. 2016, sec. 4.1: content relu2_2, style relu1_2, relu2_2, relu3_3, relu4_3 of VGG-16
JOHNSON_CONTENT = "relu2_2"
JOHNSON_STYLE = ("relu1_2", "relu2_2", "relu3_3", "relu4_3")


# --- images


def read_image(path: str) -> np.ndarray:
  """An image file, `skimage:<name>` (`SKIMAGE_STYLES`) or `<split>:<name>` of the natural_images photographs
  (`natural_images.read_photograph`, e.g. set14:lenna), as uint8 RGB [H, W, 3]."""
  if path.startswith("skimage:"):
    name = path.split(":", 1)[1]
    if name not in SKIMAGE_STYLES:
      raise UserError(f"unknown scikit-image picture {name!r}; known: {', '.join(SKIMAGE_STYLES)}")
    import skimage.data  # pylint: disable=g-import-not-at-top  # optional, only for these pictures
    image = np.asarray(getattr(skimage.data, name)(), np.uint8)
  elif ":" in path and not os.path.exists(path):
    image = natural_images.read_photograph(path)
  else:
    if not os.path.isfile(path):
      raise UserError(f"no image file {path!r}")
    try:
      with Image.open(path) as f:
        image = np.asarray(f.convert("RGB"))
    except OSError as e:
      raise UserError(f"cannot read image {path}: {e}") from None
  return np.repeat(image[..., None], 3, axis=-1) if image.ndim == 2 else image[..., :3]


def resize_longer_side(image: np.ndarray, size: int) -> np.ndarray:
  """`image` resized (bicubic) so that its longer side is `size` pixels."""
  h, w = image.shape[:2]
  factor = size / max(h, w)
  shape = (max(1, round(w * factor)), max(1, round(h * factor)))
  return np.asarray(Image.fromarray(image).resize(shape, Image.BICUBIC))


def vgg_variables(depth: int, layers: Sequence[str], weights: str) -> tuple[dict, str]:
  """VGG-`depth` parameters for the layers up to the deepest of `layers`, and what they are (the file and its
  sha256, or the random substitute)."""
  if weights:
    variables, sha256 = vgg_features.load_vgg_weights(weights, depth)
    source = f"{os.path.basename(weights)} (sha256 {sha256})"
  else:
    variables = vgg_features.random_vgg(depth, 0)
    source = f"random_vgg{depth}(seed 0) substitute: its features are not perceptual, nor is the result"
  names = vgg_features.layer_names(depth)
  last = max(names.index(n) for n in layers)
  return {k: v for k, v in variables["params"].items() if int(k.split("_")[1]) <= last}, source


# --- losses


def style_loss(features: dict, targets: dict) -> jax.Array:
  """Gatys et al. 2016, eq. 4-5 with w_l = 1 / L: mean over layers of sum (G - A)^2 / 4, G and A the Gram
  matrices normalised by N_l M_l (so this is sum (G' - A')^2 / (4 N_l^2 M_l^2) of the unnormalised ones)."""
  terms = [jnp.sum((gram_matrix(features[k]) - targets[k]) ** 2) / 4 for k in targets]
  return sum(terms) / len(terms)


def total_variation(image: jax.Array) -> jax.Array:
  """Sum of squared differences between vertically and horizontally adjacent pixels."""
  return jnp.sum((image[:, 1:] - image[:, :-1]) ** 2) + jnp.sum((image[:, :, 1:] - image[:, :, :-1]) ** 2)


@dataclasses.dataclass(frozen=True)
class GatysLoss:
  """alpha L_content + beta L_style + tv_weight TV of an image in [0, 1] (Gatys et al. 2016, eq. 7):
  L_content = 1/2 sum (F - P)^2 on `content_layer` (eq. 1), L_style by `style_loss`."""
  vgg: vgg_features.VGGFeatures
  content_layer: str
  style_layers: tuple[str, ...]
  content_weight: float = 1.0
  style_weight: float = 1e3  # alpha / beta = 1e-3 (sec. 3)
  tv_weight: float = 0.0

  def targets(self, params, content: jax.Array, style: jax.Array) -> tuple[jax.Array, dict]:
    """(content features P, style Gram matrices A) of [1, H, W, 3] images in [0, 1]."""
    p = self.vgg.apply({"params": params}, content)[self.content_layer]
    s = self.vgg.apply({"params": params}, style)
    return p, {k: gram_matrix(s[k]) for k in self.style_layers}

  def __call__(self, params, image, content_features, style_grams) -> tuple[jax.Array, dict]:
    f = self.vgg.apply({"params": params}, image)
    terms = {"content": 0.5 * jnp.sum((f[self.content_layer] - content_features) ** 2),
             "style": style_loss(f, style_grams), "tv": total_variation(image)}
    total = (self.content_weight * terms["content"] + self.style_weight * terms["style"]
             + self.tv_weight * terms["tv"])
    return total, terms


def gatys_loss(vgg_weights: str = "", content_layer: str = GATYS_CONTENT,
               style_layers: Sequence[str] = GATYS_STYLE, content_weight: float = 1.0, style_weight: float = 1e3,
               tv_weight: float = 0.0) -> tuple[GatysLoss, dict, str]:
  """`GatysLoss` on VGG-19 layers, the VGG parameters it needs and their source (`vgg_variables`)."""
  layers = (content_layer, *style_layers)
  names = vgg_features.layer_names(19)
  unknown = [n for n in layers if n not in names]
  if unknown:
    raise UserError(f"unknown VGG-19 layer(s) {unknown}; known: {', '.join(names)}")
  params, source = vgg_variables(19, layers, vgg_weights)
  loss = GatysLoss(vgg_features.VGGFeatures(19, layers, "[0,1]"), content_layer, tuple(style_layers),
                   content_weight, style_weight, tv_weight)
  return loss, params, source


def gatys_transfer(content: np.ndarray, style: np.ndarray, loss: GatysLoss, params, steps: int,
                   optimizer: str = "adam", learning_rate: float = 0.02, every: int = 50,
                   report: Callable[[int, dict], None] = lambda step, terms: None, init: str = "content",
                   seed: int = 0) -> np.ndarray:
  """Optimises an image of `content`'s size (uint8 [H, W, 3]), started from `content` or (`init='noise'`, as
  Gatys et al. 2016, sec. 2) uniform noise drawn with `seed`, for `steps` updates of Adam (pixels in [0, 1],
  clipped after each step) or L-BFGS (optax.lbfgs with its zoom line search; clipped at the end).
  `report(step, {'loss', 'content', 'style', 'tv'})` is called every `every` steps and after the last.
  Returns the uint8 result."""
  if steps < 1:
    raise UserError(f"steps must be >= 1, got {steps}")
  to_unit = lambda x: jnp.asarray(x[None], jnp.float32) / 255
  content_features, style_grams = jax.jit(loss.targets)(params, to_unit(content), to_unit(style))
  objective = lambda image: loss(params, image, content_features, style_grams)
  value_fn = lambda image: objective(image)[0]
  if optimizer == "adam":
    tx = optax.adam(learning_rate)

    @jax.jit
    def update(image, opt_state):
      (value, terms), grads = jax.value_and_grad(objective, has_aux=True)(image)
      updates, opt_state = tx.update(grads, opt_state, image)
      return jnp.clip(optax.apply_updates(image, updates), 0, 1), opt_state, {"loss": value, **terms}
  elif optimizer == "lbfgs":
    tx = optax.lbfgs()
    value_and_grad = optax.value_and_grad_from_state(value_fn)

    @jax.jit
    def update(image, opt_state):
      value, grads = value_and_grad(image, state=opt_state)
      updates, opt_state = tx.update(grads, opt_state, image, value=value, grad=grads, value_fn=value_fn)
      return optax.apply_updates(image, updates), opt_state, {"loss": value, **objective(image)[1]}
  else:
    raise UserError(f"optimizer must be adam or lbfgs, got {optimizer!r}")
  if init == "content":
    image = to_unit(content)
  elif init == "noise":
    image = jax.random.uniform(jax.random.key(seed), (1, *content.shape), jnp.float32)
  else:
    raise UserError(f"init must be content or noise, got {init!r}")
  opt_state = tx.init(image)
  for step in range(1, steps + 1):
    image, opt_state, terms = update(image, opt_state)
    if step % every == 0 or step == steps:
      report(step, {k: float(v) for k, v in terms.items()})
  return np.asarray(np.round(np.clip(np.asarray(image[0]), 0, 1) * 255), np.uint8)


# --- Johnson et al. 2016: a feed-forward network per style


@flax.struct.dataclass
class StyleState:
  """The transformation network's parameters and optimizer state; the fixed VGG parameters and the style
  image's Gram matrices (per style layer), kept so that a restored run needs neither the file nor VGG."""
  step: jax.Array
  params: Any
  opt_state: Any
  vgg: Any
  style_grams: Any


@dataclasses.dataclass(frozen=True)
class StyleSpec:
  """Everything the Johnson step closes over."""
  network: TransformerNet
  tx: optax.GradientTransformation
  vgg: vgg_features.VGGFeatures
  content_layer: str
  style_layers: tuple[str, ...]
  content_weight: float
  style_weight: float
  tv_weight: float


def johnson_losses(spec: StyleSpec, vgg, style_grams, images: jax.Array, outputs: jax.Array) -> dict:
  """Content (MSE of `content_layer` features), style (sum over layers of the MSE of Gram matrices) and TV
  of the network's `outputs` for its inputs `images`, both 0-255."""
  f_out = spec.vgg.apply({"params": vgg}, outputs / 255)
  f_in = spec.vgg.apply({"params": vgg}, images / 255)
  content = jnp.mean((f_out[spec.content_layer] - jax.lax.stop_gradient(f_in[spec.content_layer])) ** 2)
  style = sum(jnp.mean((gram_matrix(f_out[k]) - style_grams[k][None]) ** 2) for k in spec.style_layers)
  return {"content_loss": content, "style_loss": style, "tv_loss": total_variation(outputs) / outputs.shape[0]}


def replace_flat(images: jax.Array, min_std: float = 1.0) -> jax.Array:
  """[B, H, W, C] with each flat image (pixel std below `min_std` grey levels, e.g. a crop of white sky)
  replaced by the batch's first non-flat one. Through the network's stacked instance norms a constant input's
  gradient grows by 1/sqrt(eps) per layer, past float32's range (NaN parameters after one step)."""
  flat = jnp.std(images, axis=(1, 2, 3)) < min_std
  return jnp.where(flat[:, None, None, None], images[jnp.argmin(flat)], images)


def johnson_step(spec: StyleSpec, state: StyleState, batch: dict, rng: jax.Array) -> tuple[StyleState, dict]:
  """One Adam update of the network on a batch of uint8 content crops."""
  del rng
  images = replace_flat(batch["image"].astype(jnp.float32))

  def loss_fn(params):
    terms = johnson_losses(spec, state.vgg, state.style_grams, images, spec.network.apply({"params": params}, images))
    total = (spec.content_weight * terms["content_loss"] + spec.style_weight * terms["style_loss"]
             + spec.tv_weight * terms["tv_loss"])
    return total, {"loss": total, **terms}

  grads, metrics = jax.grad(loss_fn, has_aux=True)(state.params)
  updates, opt_state = spec.tx.update(grads, state.opt_state, state.params)
  return state.replace(step=state.step + 1, params=optax.apply_updates(state.params, updates),
                       opt_state=opt_state), metrics


def pad_to_multiple(image: np.ndarray, k: int) -> np.ndarray:
  """Reflection-pads the bottom and right of [H, W, C] to multiples of `k`."""
  h, w = image.shape[:2]
  return np.pad(image, ((0, -h % k), (0, -w % k), (0, 0)), mode="reflect" if min(h, w) > 1 else "edge")


@TASKS.register("style_transfer")
class StyleTransferTask:
  """Johnson et al. 2016's fast style transfer (`gans.train.task.Task` and `Translator`)."""

  def __init__(self, config: ConfigDict, data: DataSpec, mesh=None):
    del mesh
    self.config, self.data = config, data
    if data.shape[-1] != 3 or data.shape[0] % 4 or data.shape[1] % 4:
      raise UserError(f"style_transfer needs RGB crops whose sides are multiples of 4, got {data.shape}")
    layers = (config.content_layer, *config.style_layers)
    names = vgg_features.layer_names(16)
    unknown = [n for n in layers if n not in names]
    if unknown:
      raise UserError(f"unknown VGG-16 layer(s) {unknown}; known: {', '.join(names)}")
    self.spec = StyleSpec(
        network=TransformerNet(), tx=optim.make(config.optimizer, config.total_steps),
        vgg=vgg_features.VGGFeatures(16, layers, "[0,1]"), content_layer=config.content_layer,
        style_layers=tuple(config.style_layers), content_weight=config.content_weight,
        style_weight=config.style_weight, tv_weight=config.tv_weight)
    self.examples_per_step = config.batch_size
    self.step = WholeStep(functools.partial(johnson_step, self.spec))
    self._vgg, self.vgg_source = vgg_variables(16, layers, config.get("vgg_weights", ""))
    logging.info("style_transfer VGG-16 weights: %s", self.vgg_source)
    self._style = None
    self._grams = None
    self._forward = jax.jit(lambda params, x: self.spec.network.apply({"params": params}, x))
    self._eval = None

  def style_image(self) -> np.ndarray:
    """The style picture, resized to `style_size` on its longer side (read at the first call)."""
    if self._style is None:
      self._style = resize_longer_side(read_image(self.config.style_image), self.config.style_size)
    return self._style

  def init(self, rng: jax.Array) -> StyleState:
    x = jnp.zeros((1, *self.data.shape), jnp.float32)
    params = self.spec.network.init(rng, x)["params"]
    return StyleState(jnp.zeros((), jnp.int32), params, self.spec.tx.init(params), self._vgg, self.style_grams())

  def style_grams(self) -> dict:
    """The style picture's Gram matrices per style layer, computed once and eagerly: traced inside the jitted
    `init`, the VGG pass over constants would be constant-folded by XLA (minutes of compilation)."""
    if self._grams is None:
      with jax.ensure_compile_time_eval():
        style = jnp.asarray(self.style_image()[None], jnp.float32) / 255
        features = jax.jit(self.spec.vgg.apply)({"params": self._vgg}, style)
        self._grams = {k: np.asarray(gram_matrix(features[k])[0]) for k in self.spec.style_layers}
    return self._grams

  def translate(self, state: StyleState, image: np.ndarray) -> np.ndarray:
    """uint8 [H, W, 3] (or 1 channel, repeated) -> the stylised uint8 [H, W, 3]."""
    image = np.asarray(image)
    image = image[..., None] if image.ndim == 2 else image
    if image.dtype != np.uint8 or image.ndim != 3 or image.shape[-1] not in (1, 3):
      raise UserError(f"style transfer takes uint8 images [H, W, 1 or 3], got {image.dtype} {image.shape}")
    if min(image.shape[:2]) < 4:
      raise UserError(f"image of {image.shape[1]}x{image.shape[0]} pixels is too small to stylise")
    image = np.repeat(image, 3, axis=-1) if image.shape[-1] == 1 else image
    h, w = image.shape[:2]
    out = self._forward(state.params, jnp.asarray(pad_to_multiple(image, 4)[None], jnp.float32))
    return np.clip(np.round(np.asarray(out[0, :h, :w])), 0, 255).astype(np.uint8)

  def evaluate(self, state: StyleState, step: int, workdir: str) -> dict:
    """Stylises the `eval_split` images (longer side `eval_size`) into DIR/stylized/step_<N>/; returns their
    mean content and style losses (`eval_content_loss`, `eval_style_loss`, unweighted)."""
    if self._eval is None:
      builder = sources.get_builder(self.config.dataset, self.config.get("data_dir"))
      ds = tfds.as_numpy(sources.read(builder, self.config.eval_split))
      self._eval = [(os.path.basename(ex["file_name"].decode()), resize_longer_side(ex["image"], self.config.eval_size))
                    for ex in ds]
    content, style = [], []
    for name, image in self._eval:
      out = self.translate(state, image)
      terms = johnson_losses(self.spec, state.vgg, state.style_grams, jnp.asarray(image[None], jnp.float32),
                             jnp.asarray(out[None], jnp.float32))
      content.append(float(terms["content_loss"]))
      style.append(float(terms["style_loss"]))
      if jax.process_index() == 0:
        visualize.save_png(out, os.path.join(workdir, "stylized", f"step_{step}", os.path.splitext(name)[0] + ".png"))
    return {"eval_content_loss": float(np.mean(content)), "eval_style_loss": float(np.mean(style)),
            "vgg_pretrained": float(bool(self.config.get("vgg_weights")))}
