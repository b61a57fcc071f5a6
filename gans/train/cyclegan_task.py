"""Unpaired translation (`task = "cyclegan"`): CycleGAN (Zhu et al. 2017) between two domains of one dataset.

Networks G_AB: A -> B, G_BA: B -> A (`gans.models.translation.resnet_generator`), D_A, D_B (PatchGANs), named
entries of one state. Objective (sec. 3 and 4): least-squares GAN losses (Mao et al. 2017; D pushes real to 1
and fake to 0, G pushes fake to 1), cycle consistency lambda * (|G_BA(G_AB(a)) - a|_1 + |G_AB(G_BA(b)) - b|_1)
with lambda = `lambda_cycle` (10), identity 0.5 lambda * (|G_AB(b) - b|_1 + |G_BA(a) - a|_1) (sec. 5.2,
`lambda_identity` 0.5); each D's loss is halved. As the reference implementation, the generators are updated
first, then the discriminators, which judge fakes drawn from a history of 50 generated images
(Shrivastava et al. 2017, sec. 2.3; `history_pool`), kept as arrays in the state with their fill count, so a
resumed run continues exactly. Adam(2e-4, 0.5, 0.999) at a constant rate for the first half of the run, then
decaying linearly to 0 (sec. 7.1; `half_then_linear`).

Domains (`config.domains`): examples of class `a_label` from the split `a_split` (the first half of the train
split) and of class `b_label` from `b_split` (the second half), so no image has a counterpart in the other
domain; each step draws its batch of each domain uniformly (with replacement) from `fold_in(rng, step)`, so the
pipeline's own batch is not used.

Evaluation on `eval_split` (test): with `eval_classifier` (a classifier workdir), the fraction of translated test
images of each domain (resized back to the dataset's size) that the classifier puts in the other domain's class,
and the Frechet distance of their classifier features to those of the target class's test images (FCD); always
the cycle L1 error (images in [-1, 1]); a picture of a | G_AB(a) | G_BA(G_AB(a)) and b | G_BA(b) |
G_AB(G_BA(b)) rows.
"""
import dataclasses
import functools
import os
from typing import Any, Callable

import flax
import jax
import jax.numpy as jnp
import numpy as np
import optax
from absl import logging
from ml_collections import ConfigDict

from gans import visualize
from gans.data import eval_input, pipeline, sources
from gans.errors import UserError
from gans.metrics import features, stats
from gans.models import translation
from gans.models.translation import resnet_generator
from gans.train.task import TASKS, flops

GENERATORS, DISCRIMINATORS = ("G_AB", "G_BA"), ("D_A", "D_B")


# --- the pieces of the objective


def lsgan_loss(outputs, target: float):
  """mean((D(x) - target)^2)."""
  return jnp.mean((outputs.astype(jnp.float32) - target) ** 2)


def l1(x, y):
  return jnp.mean(jnp.abs(x - y))


def cycle_loss(real_a, cycled_a, real_b, cycled_b, weight: float):
  """lambda * (|G_BA(G_AB(a)) - a|_1 + |G_AB(G_BA(b)) - b|_1), each a mean over pixels."""
  return weight * (l1(cycled_a, real_a) + l1(cycled_b, real_b))


def identity_loss(real_a, same_a, real_b, same_b, weight: float):
  """weight * (|G_BA(a) - a|_1 + |G_AB(b) - b|_1): `same_a` = G_BA(a), `same_b` = G_AB(b)."""
  return weight * (l1(same_a, real_a) + l1(same_b, real_b))


def half_then_linear(learning_rate: float, total_steps: int) -> optax.Schedule:
  """`learning_rate` for the first total_steps // 2 updates, then linear to 0 at update total_steps."""
  half = total_steps // 2
  return lambda count: learning_rate * jnp.clip((total_steps - count) / max(total_steps - half, 1), 0.0, 1.0)


def history_pool(pool, count, images, rng):
  """Shrivastava et al. 2017's history of generated images, image by image: while fewer than len(pool) are
  stored, store the new image and return it; then, with probability 1/2, return a stored image chosen
  uniformly and store the new one in its place, else return the new one.

  Args:
    pool: [size, H, W, C] stored images (rows >= count unused). count: int32, how many are stored.
    images: [B, H, W, C] new images. rng: the key of this query (image i draws from fold_in(rng, i)).
  Returns:
    (pool, count, the [B, H, W, C] images to show D).
  """
  size = pool.shape[0]
  if size == 0:
    return pool, count, images

  def one(carry, inputs):
    pool, count = carry
    i, image = inputs
    k_swap, k_index = jax.random.split(jax.random.fold_in(rng, i))
    filling = count < size
    swap = jax.random.uniform(k_swap) < 0.5
    slot = jnp.where(filling, count, jax.random.randint(k_index, (), 0, size))
    out = jnp.where(filling | ~swap, image, pool[slot])
    pool = jnp.where(filling | swap, pool.at[slot].set(image), pool)
    return (pool, count + filling.astype(count.dtype)), out

  (pool, count), out = jax.lax.scan(one, (pool, count), (jnp.arange(images.shape[0]), images))
  return pool, count, out


# --- state and step


@flax.struct.dataclass
class CycleGANState:
  """params / batch_stats {'G_AB', 'G_BA', 'D_A', 'D_B'}; one optimizer state for the generators and one for the
  discriminators; `pool` {'A', 'B'}: histories of generated A (fed to D_A) and B images, `pool_count` their fill."""
  step: jax.Array
  params: Any
  batch_stats: Any
  g_opt_state: Any
  d_opt_state: Any
  pool: Any
  pool_count: Any


@dataclasses.dataclass(frozen=True)
class CycleGANSpec:
  generator: Any
  discriminator: Any
  g_tx: optax.GradientTransformation
  d_tx: optax.GradientTransformation
  lambda_cycle: float = 10.0
  lambda_identity: float = 0.5
  batch_size: int = 1


def _run(module, params, stats, x, train=True):
  """(module(x), its new batch statistics)."""
  out, updates = module.apply({"params": params, "batch_stats": stats}, x, train=train, mutable=["batch_stats"])
  return out, updates.get("batch_stats", stats)


def train_step(spec: CycleGANSpec, state: CycleGANState, domains: dict, rng) -> tuple[CycleGANState, dict]:
  """One generator update then one discriminator update on a batch drawn from each domain."""
  rng = jax.random.fold_in(rng, state.step)
  k_a, k_b, k_pool_a, k_pool_b = jax.random.split(rng, 4)
  real_a = domains["A"][jax.random.randint(k_a, (spec.batch_size,), 0, domains["A"].shape[0])]
  real_b = domains["B"][jax.random.randint(k_b, (spec.batch_size,), 0, domains["B"].shape[0])]
  stats = state.batch_stats

  def g_loss_fn(g_params):
    s = dict(stats)
    g = lambda name, x: _run(spec.generator, g_params[name], s[name], x)
    fake_b, s["G_AB"] = g("G_AB", real_a)
    cycled_a, s["G_BA"] = g("G_BA", fake_b)
    fake_a, s["G_BA"] = g("G_BA", real_b)
    cycled_b, s["G_AB"] = g("G_AB", fake_a)
    adv_b, s["D_B"] = _run(spec.discriminator, state.params["D_B"], s["D_B"], fake_b)
    adv_a, s["D_A"] = _run(spec.discriminator, state.params["D_A"], s["D_A"], fake_a)
    gan = lsgan_loss(adv_b, 1.0) + lsgan_loss(adv_a, 1.0)
    cycle = cycle_loss(real_a, cycled_a, real_b, cycled_b, spec.lambda_cycle)
    identity = 0.0
    if spec.lambda_identity:
      same_b, s["G_AB"] = g("G_AB", real_b)
      same_a, s["G_BA"] = g("G_BA", real_a)
      identity = identity_loss(real_a, same_a, real_b, same_b, spec.lambda_identity * spec.lambda_cycle)
    return gan + cycle + identity, (s, fake_a, fake_b, {"g_gan": gan, "g_cycle": cycle, "g_identity": identity})

  g_params = {k: state.params[k] for k in GENERATORS}
  (g_loss, (stats, fake_a, fake_b, g_metrics)), g_grads = jax.value_and_grad(g_loss_fn, has_aux=True)(g_params)
  g_updates, g_opt_state = spec.g_tx.update(g_grads, state.g_opt_state, g_params)
  g_params = optax.apply_updates(g_params, g_updates)

  pool_a, count_a, shown_a = history_pool(state.pool["A"], state.pool_count["A"], fake_a, k_pool_a)
  pool_b, count_b, shown_b = history_pool(state.pool["B"], state.pool_count["B"], fake_b, k_pool_b)

  def d_loss_fn(d_params):
    s = dict(stats)
    losses = {}
    for name, real, fake in (("D_A", real_a, shown_a), ("D_B", real_b, shown_b)):
      real_out, s[name] = _run(spec.discriminator, d_params[name], s[name], real)
      fake_out, s[name] = _run(spec.discriminator, d_params[name], s[name], fake)
      losses[name] = 0.5 * (lsgan_loss(real_out, 1.0) + lsgan_loss(fake_out, 0.0))
    return losses["D_A"] + losses["D_B"], (s, losses)

  d_params = {k: state.params[k] for k in DISCRIMINATORS}
  (_, (stats, d_losses)), d_grads = jax.value_and_grad(d_loss_fn, has_aux=True)(d_params)
  d_updates, d_opt_state = spec.d_tx.update(d_grads, state.d_opt_state, d_params)
  d_params = optax.apply_updates(d_params, d_updates)
  new = CycleGANState(state.step + 1, {**g_params, **d_params}, stats, g_opt_state, d_opt_state,
                      {"A": pool_a, "B": pool_b}, {"A": count_a, "B": count_b})
  return new, {"g_loss": g_loss, **g_metrics, "d_a_loss": d_losses["D_A"], "d_b_loss": d_losses["D_B"]}


@dataclasses.dataclass(frozen=True)
class DomainStep:
  """The step on the task's domain arrays (the loop's batch argument is ignored); `jit` gives the arrays the
  rng's (replicated) sharding."""
  fn: Callable
  domains: dict

  @property
  def __name__(self):
    return "train_step"

  def __call__(self, state, batch, rng):
    return self.fn(state, self.domains, rng)

  def jit(self, **jit_kwargs) -> "_JittedDomainStep":
    shardings = jit_kwargs.get("in_shardings")
    if shardings is not None:
      jit_kwargs["in_shardings"] = (shardings[0], shardings[2], shardings[2])
    return _JittedDomainStep(jax.jit(self.fn, **jit_kwargs), self.domains)


@dataclasses.dataclass(frozen=True)
class _JittedDomainStep:
  fn: Callable
  domains: dict

  def __call__(self, state, batch, rng):
    return self.fn(state, self.domains, rng)

  def compile(self, state, batch, rng):
    compiled = self.fn.lower(state, self.domains, rng).compile()
    return (lambda s, b, r: compiled(s, self.domains, r)), flops(compiled)


def domain_images(config: ConfigDict, split: str, label: int) -> np.ndarray:
  """Preprocessed images of class `label` in `split` (a tfds split string), in stored order."""
  images, labels = eval_input.split_arrays(config, split)
  chosen = images[labels == label]
  if not len(chosen):
    raise UserError(f"{config.dataset} has no images of class {label} in {split}")
  return chosen


@TASKS.register("cyclegan")
class CycleGANTask:
  """CycleGAN (`gans.train.task.Task` and `Translator`, A -> B or B -> A by `translate_direction`)."""

  def __init__(self, config: ConfigDict, data: pipeline.DataSpec, mesh):
    if len(data.shape) != 3:
      raise UserError(f"cyclegan translates images, got examples of shape {data.shape}")
    if config.translate_direction not in ("AB", "BA"):
      raise UserError(f"translate_direction must be 'AB' or 'BA', got {config.translate_direction!r}")
    self.config, self.data, self.mesh = config, data, mesh
    m, d = config.model, config.domains
    if m.n_blocks < 0:
      raise UserError(f"model.n_blocks must be >= 0, got {m.n_blocks}")
    generator = resnet_generator.ResnetGenerator(m.n_blocks, data.shape[-1], m.ngf, m.norm, False)
    discriminator = translation.discriminator(m.netD, m.ndf, m.n_layers_D, m.norm)
    tx = lambda o: optax.adam(half_then_linear(o.learning_rate, config.total_steps), b1=o.b1, b2=o.b2)
    self.spec = CycleGANSpec(generator, discriminator, tx(config.g_optimizer), tx(config.d_optimizer),
                             config.lambda_cycle, config.lambda_identity, config.batch_size)
    self.examples_per_step = config.batch_size
    domains = {"A": domain_images(config, d.a_split, d.a_label), "B": domain_images(config, d.b_split, d.b_label)}
    logging.info("cyclegan domains: %d images of class %d (A), %d of class %d (B)", len(domains["A"]), d.a_label,
                 len(domains["B"]), d.b_label)
    self.step = DomainStep(functools.partial(train_step, self.spec), jax.device_put(domains))
    self._translate = jax.jit(lambda params, stats, x: generator.apply({"params": params, "batch_stats": stats}, x,
                                                                       train=False))
    self._test = None

  def init(self, rng) -> CycleGANState:
    x = jnp.zeros((1, *self.data.shape), jnp.float32)
    keys = dict(zip((*GENERATORS, *DISCRIMINATORS), jax.random.split(rng, 4)))
    variables = {k: (self.spec.generator if k in GENERATORS else self.spec.discriminator).init(keys[k], x,
                                                                                                train=False)
                 for k in keys}
    params = {k: v["params"] for k, v in variables.items()}
    stats = {k: v.get("batch_stats", {}) for k, v in variables.items()}
    size = self.config.pool_size
    pool = {k: jnp.zeros((size, *self.data.shape), jnp.float32) for k in "AB"}
    return CycleGANState(jnp.zeros((), jnp.int32), params, stats,
                         self.spec.g_tx.init({k: params[k] for k in GENERATORS}),
                         self.spec.d_tx.init({k: params[k] for k in DISCRIMINATORS}), pool,
                         {k: jnp.zeros((), jnp.int32) for k in "AB"})

  def _apply(self, state, name: str, images) -> np.ndarray:
    out = [self._translate(state.params[name], state.batch_stats[name], images[i:i + 200])
           for i in range(0, len(images), 200)]
    return np.concatenate([np.asarray(o) for o in out])

  def translate(self, state, image: np.ndarray) -> np.ndarray:
    """One uint8 image [H, W, C] of the data's channel count (H, W divisible by 4) -> its translation."""
    image = np.asarray(image)
    channels = self.data.shape[-1]
    if image.ndim != 3 or image.shape[-1] != channels:
      raise UserError(f"this cyclegan network translates images [H, W, {channels}], got shape {image.shape}")
    name = "G_AB" if self.config.translate_direction == "AB" else "G_BA"
    out = self._apply(state, name, image[None].astype(np.float32) / 127.5 - 1)
    return features.to_uint8(out[0])

  def evaluate(self, state, step: int, workdir: str) -> dict:
    """On the test split: `a_to_b_accuracy` / `b_to_a_accuracy` and `a_to_b_fcd` / `b_to_a_fcd` (with
    `eval_classifier`), `cycle_l1_a`, `cycle_l1_b`; DIR/translations/step_<N>.png."""
    d = self.config.domains
    if self._test is None:
      images, labels = eval_input.split_arrays(self.config, self.config.eval_split)
      self._test = {"A": images[labels == d.a_label], "B": images[labels == d.b_label]}
    a, b = self._test["A"], self._test["B"]
    a_to_b, b_to_a = self._apply(state, "G_AB", a), self._apply(state, "G_BA", b)
    a_back, b_back = self._apply(state, "G_BA", a_to_b), self._apply(state, "G_AB", b_to_a)
    results = {"cycle_l1_a": float(np.abs(a_back - a).mean()), "cycle_l1_b": float(np.abs(b_back - b).mean())}
    if self.config.eval_classifier:
      classifier = features.get_extractor(f"classifier:{self.config.eval_classifier}")
      native = sources.get_builder(self.config.dataset, self.config.get("data_dir")).info.features["image"].shape
      def read(images):  # back to the dataset's size, which the classifier was trained on
        if images.shape[1:3] != native[:2]:
          images = jax.image.resize(images, (len(images), *native[:2], images.shape[-1]), "linear", antialias=True)
        return classifier(features.to_uint8(images))

      for key, images, label, target in (("a_to_b", a_to_b, d.b_label, b), ("b_to_a", b_to_a, d.a_label, a)):
        feats, logits = read(images)
        results[f"{key}_accuracy"] = float(np.mean(np.argmax(logits, -1) == label))
        results[f"{key}_fcd"] = stats.fid_from_features(feats, read(target)[0])  # both resized alike
    elif step >= self.config.total_steps:
      logging.info("cyclegan: no eval_classifier configured, so no target-class accuracy of translations")
    if jax.process_index() == 0:
      n = min(8, len(a), len(b))
      rows = np.concatenate([np.stack([a[:n], a_to_b[:n], a_back[:n]], 1), np.stack([b[:n], b_to_a[:n],
                                                                                       b_back[:n]], 1)])
      visualize.save_image_grid(rows.reshape(-1, *a.shape[1:]), os.path.join(workdir, "translations",
                                                                               f"step_{step}.png"), ncols=3)
    return results
