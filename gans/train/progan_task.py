"""Progressive GAN training (Karras et al. 2018, sec. 2 and A.1): the networks grow from 4x4 to the data's size.

Schedule (sec. 2, A.1): with n = step * batch_size images shown and P = `images_per_phase`, phase 0 trains at
4x4; each later resolution first fades in for P images (alpha rising linearly from 0 to 1) then stabilises for
P images. The phase (lod, alpha) is a pure function of the step, so a resumed run repeats an uninterrupted one
exactly. Real images are average-pooled to the current resolution and, during a fade-in, blended with their
2x-downsampled-and-upsampled copy by the same alpha (the reference's `process_reals`).

Loss (sec. A.1): WGAN-GP (Gulrajani et al. 2017; lambda 10) with the drift term eps E[D(x)^2], eps = 0.001;
one D update per G update; Adam(0.001, 0, 0.99); EMA of G's weights (0.999). Each resolution (lod) has its own
compiled step, built when the schedule first reaches it; alpha is computed from the step inside it.

Config keys: `model` (progan's `fmap_base`, `fmap_decay`, `fmap_max`, `mbstd_group_size`, `z_dim`),
`progan` {images_per_phase, gp_weight, drift}, `g_optimizer`, `d_optimizer`, `ema_decay`.
"""
import dataclasses
import functools
import os
from typing import Callable

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import optax
from ml_collections import ConfigDict

from gans import losses, penalties, visualize
from gans.data.pipeline import DataSpec
from gans.errors import UserError
from gans.models import gan as gan_models
from gans.models.gan import progan
from gans.train import optim
from gans.train.gan_step import GANState, NetState
from gans.train.task import TASKS, Unconditional, flops

_WASSERSTEIN = losses.get_loss("wasserstein")


@dataclasses.dataclass(frozen=True)
class Schedule:
  """The growth schedule: `max_lod` = log2(image size) - 2 (4x4), `images_per_phase` per fade-in / stable phase."""
  max_lod: int
  images_per_phase: int
  batch_size: int

  def phase_index(self, step):
    return (step * self.batch_size) // self.images_per_phase

  def lod(self, step: int) -> int:
    """The level of detail trained at `step` (a Python int: it picks the compiled step)."""
    return max(self.max_lod - (int(self.phase_index(step)) + 1) // 2, 0)

  def alpha(self, step):
    """The fade-in weight at `step` (traceable): rising from 0 to 1 over odd phases, 1 otherwise."""
    shown = step * self.batch_size
    phase = shown // self.images_per_phase
    fraction = (shown - phase * self.images_per_phase) / self.images_per_phase
    fading = (phase % 2 == 1) & ((phase + 1) // 2 <= self.max_lod)
    return jnp.where(fading, fraction, 1.0).astype(jnp.float32)


@dataclasses.dataclass(frozen=True)
class ProGANSpec:
  generator: nn.Module  # built at lod 0; `clone(lod=...)` gives the network at another resolution
  discriminator: nn.Module
  g_tx: optax.GradientTransformation
  d_tx: optax.GradientTransformation
  z_dim: int
  schedule: Schedule
  gp_weight: float = 10.0
  drift: float = 0.001
  ema_decay: float = 0.999


def real_at(images: jax.Array, lod: int, alpha) -> jax.Array:
  """Reals at the resolution of `lod` (2^lod x 2^lod average pooling), blended during a fade-in with their
  downsampled-then-upsampled copy: alpha x + (1 - alpha) up(down(x))."""
  x = progan.downscale2d(images, 2 ** lod) if lod else images
  if x.shape[1] <= 4:
    return x
  coarse = progan.upscale2d(progan.downscale2d(x))
  return coarse + alpha * (x - coarse)


def d_loss(d_fn: Callable, real: jax.Array, fake: jax.Array, key: jax.Array, gp_weight: float, drift: float):
  """WGAN-GP critic loss with the drift term: E[D(G(z))] - E[D(x)] + lambda GP + eps E[D(x)^2]."""
  real_out, fake_out = d_fn(real), d_fn(fake)
  gp = penalties.gradient_penalty(d_fn, real, fake, key)
  loss = _WASSERSTEIN.d_loss(real_out, fake_out) + gp_weight * gp + drift * jnp.mean(jnp.square(real_out))
  return loss, {"d_real": real_out.mean(), "d_fake": fake_out.mean(), "penalty": gp}


def train_step(spec: ProGANSpec, lod: int, state: GANState, batch: dict, rng: jax.Array):
  """One D update then one G update at resolution `lod`, alpha from the step; EMA of G; advances the step."""
  rng = jax.random.fold_in(rng, state.step)
  alpha = spec.schedule.alpha(state.step)
  g_net, d_net = spec.generator.clone(lod=lod), spec.discriminator.clone(lod=lod)
  real = real_at(batch["image"].astype(jnp.float32), lod, alpha)
  b = real.shape[0]
  z_d, z_g, gp_key = (jax.random.normal(jax.random.fold_in(rng, 0), (b, spec.z_dim)),
                      jax.random.normal(jax.random.fold_in(rng, 1), (b, spec.z_dim)), jax.random.fold_in(rng, 2))
  generate = lambda params, z: g_net.apply({"params": params}, z, train=True, alpha=alpha)
  critic = lambda params: lambda x: d_net.apply({"params": params}, x, train=True, alpha=alpha)

  fake = jax.lax.stop_gradient(generate(state.g.params, z_d))
  (loss_d, metrics), grads = jax.value_and_grad(
      lambda p: d_loss(critic(p), real, fake, gp_key, spec.gp_weight, spec.drift), has_aux=True)(state.d.params)
  updates, d_opt = spec.d_tx.update(grads, state.d.opt_state, state.d.params)
  d = NetState(optax.apply_updates(state.d.params, updates), {}, d_opt)

  loss_g, grads = jax.value_and_grad(lambda p: _WASSERSTEIN.g_loss(critic(d.params)(generate(p, z_g))))(
      state.g.params)
  updates, g_opt = spec.g_tx.update(grads, state.g.opt_state, state.g.params)
  g = NetState(optax.apply_updates(state.g.params, updates), {}, g_opt)
  g_ema = optax.incremental_update(g.params, state.g_ema, 1.0 - spec.ema_decay) if spec.ema_decay else None
  metrics = {"d_loss": loss_d, "g_loss": loss_g, "alpha": alpha, "resolution": jnp.float32(real.shape[1]),
             **metrics}
  return state.replace(step=state.step + 1, g=g, d=d, g_ema=g_ema), metrics


@dataclasses.dataclass
class GrowingStep:
  """`(state, batch, rng) -> (state, metrics)`: the step of the resolution the schedule gives for the state's
  step, each resolution's step built (and, after `jit`, compiled) once and kept by lod."""
  spec: ProGANSpec
  wrap: Callable = lambda fn: fn  # jax.jit with the loop's arguments, after `jit`
  cache: dict = dataclasses.field(default_factory=dict)
  __name__ = "train_step"

  def for_lod(self, lod: int) -> Callable:
    if lod not in self.cache:
      self.cache[lod] = self.wrap(functools.partial(train_step, self.spec, lod))
    return self.cache[lod]

  def __call__(self, state, batch, rng):
    return self.for_lod(self.spec.schedule.lod(int(jax.device_get(state.step))))(state, batch, rng)

  def jit(self, **jit_kwargs) -> "GrowingStep":
    return GrowingStep(self.spec, functools.partial(jax.jit, **jit_kwargs))

  def compile(self, state, batch, rng) -> tuple[Callable, float]:
    """For a jitted step: the full-resolution step compiled (whatever the state's step: the last phases' step,
    the most expensive, which a benchmark times) and the FLOPs of one call."""
    compiled = self.for_lod(0).lower(state, batch, rng).compile()
    return compiled, flops(compiled)


def build_spec(config: ConfigDict, data: DataSpec) -> ProGANSpec:
  if config.model.get("name") != "progan":
    raise UserError(f"the progan task trains model 'progan', got {config.model.get('name')!r}")
  model = ConfigDict({**config.model.to_dict(), "lod": 0})
  generator, discriminator = gan_models.create(model, data.shape, {"adv": True})
  opts = {"images_per_phase": 600_000, "gp_weight": 10.0, "drift": 0.001, **config.get("progan", {})}
  if opts["images_per_phase"] < 1:
    raise UserError(f"progan: images_per_phase must be >= 1, got {opts['images_per_phase']}")
  if not 0 <= config.ema_decay < 1:
    raise UserError(f"progan: ema_decay must be in [0, 1), got {config.ema_decay}")
  schedule = Schedule(int(np.log2(data.shape[0])) - 2, int(opts["images_per_phase"]), config.batch_size)
  return ProGANSpec(generator, discriminator, optim.make(config.g_optimizer, config.total_steps),
                    optim.make(config.d_optimizer, config.total_steps), int(config.model.get("z_dim", 512)),
                    schedule, float(opts["gp_weight"]), float(opts["drift"]), float(config.ema_decay))


@TASKS.register("progan")
class ProGANTask(Unconditional):
  """A progressively grown GAN (`gans.train.task.Task` and `Sampler`, unconditional)."""

  def __init__(self, config: ConfigDict, data: DataSpec, mesh=None):
    del mesh
    self.config, self.data = config, data
    self.spec = build_spec(config, data)
    self.examples_per_step = config.batch_size
    self.step = GrowingStep(self.spec)
    self._generate = jax.jit(self._generate_batch, static_argnames=("lod",))

  def init(self, rng: jax.Array) -> GANState:
    g_rng, d_rng = jax.random.split(rng)
    g = self.spec.generator.init(g_rng, jnp.zeros((1, self.spec.z_dim)), train=False)["params"]
    d = self.spec.discriminator.init(d_rng, jnp.zeros((1, *self.data.shape)), train=False)["params"]
    return GANState(jnp.zeros((), jnp.int32), NetState(g, {}, self.spec.g_tx.init(g)),
                    NetState(d, {}, self.spec.d_tx.init(d)), g if self.spec.ema_decay else None, {})

  def _generate_batch(self, state, z, alpha, lod: int):
    """G at `lod` blending its newest stage by `alpha`, upscaled (nearest) to the data's size."""
    params = state.g.params if state.g_ema is None else state.g_ema
    images = self.spec.generator.clone(lod=lod).apply({"params": params}, z, train=False, alpha=alpha)
    factor = 2 ** lod
    return jnp.repeat(jnp.repeat(images, factor, axis=1), factor, axis=2)

  def _last_phase(self, state) -> tuple[int, float]:
    """(lod, alpha) of the last step trained."""
    last = max(int(jax.device_get(state.step)) - 1, 0)
    return self.spec.schedule.lod(last), float(self.spec.schedule.alpha(last))

  def sample(self, state, num: int, seed: int, batch_size: int = 500, labels=None, lod: int | None = None):
    """`num` samples at the resolution last trained (or at `lod`), upscaled to the data's size, float32."""
    if labels is not None:
      raise UserError("this model is unconditional: labels do not apply")
    current, alpha = self._last_phase(state)
    lod = current if lod is None else lod
    alpha = alpha if lod == current else 1.0  # the coarser stages have faded in completely
    z = jax.random.normal(jax.random.key(seed), (num, self.spec.z_dim))
    out = [np.asarray(self._generate(state, z[i:i + batch_size], alpha, lod=lod)) for i in range(0, num, batch_size)]
    return np.concatenate(out).astype(np.float32)

  def evaluate(self, state, step: int, workdir: str) -> dict:
    """Writes samples/step_<N>.png and samples/growth_step_<N>.png: one row per resolution reached, 4x4 first,
    the same 8 latents in every row."""
    if jax.process_index() == 0:
      samples = os.path.join(workdir, "samples")
      visualize.save_image_grid(self.sample(state, 64, seed=self.config.seed + 1),
                                os.path.join(samples, f"step_{step}.png"), ncols=8)
      rows = [self.sample(state, 8, seed=self.config.seed + 1, lod=lod)
              for lod in range(self.spec.schedule.max_lod, self._last_phase(state)[0] - 1, -1)]
      visualize.save_image_grid(np.concatenate(rows), os.path.join(samples, f"growth_step_{step}.png"), ncols=8)
    return {"resolution": float(self.data.shape[0] // 2 ** self._last_phase(state)[0])}
