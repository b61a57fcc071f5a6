"""StyleGAN2 training (Karras et al. 2020, sec. 3 and app. B; as stylegan2-ada-pytorch's `StyleGAN2Loss`).

Per step: the generator's non-saturating logistic loss with style mixing (probability 0.9, Karras et al. 2019,
sec. 3.1), then the discriminator's logistic loss, then the EMA of G's weights. Lazy regularisation (sec. 3.1)
as separate updates of the same optimizers: the path-length penalty (sec. 3.2; weight 2, on batch / 2) every
4 steps and R1 (Mescheder et al. 2018; gamma / 2 E||grad D(x)||^2) every 16, each multiplied by its interval;
Adam's learning rate and betas are corrected for the extra updates (app. B, `lazy_step.lazy_adam`). The
mapping network's learning-rate multiplier 0.01 and the equalised learning rate are the model's
(`gans.models.gan.stylegan2`).

Config keys: `model` (stylegan2's `map`, `fmaps`, `cmax`, `mbstd`, `architecture`, `z_dim`, `w_dim`),
`g_optimizer`, `d_optimizer` (Adam(0.002, 0, 0.99) in the paper, given uncorrected), `stylegan2` {r1_gamma,
r1_interval, pl_weight, pl_interval, pl_batch_shrink, pl_decay, style_mixing}, `ema_decay`.
"""
import dataclasses
import functools
import os

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
from gans.models.gan import stylegan2
from gans.train.gan_step import GANState, NetState
from gans.train.lazy_step import LazyStep, LazyUpdate, lazy_adam
from gans.train.task import TASKS, Unconditional

_LOGISTIC = losses.get_loss("nsgan")  # D: softplus(D(G(z))) + softplus(-D(x)); G: softplus(-D(G(z)))


@dataclasses.dataclass(frozen=True)
class StyleGAN2Spec:
  """What the StyleGAN2 steps close over."""
  generator: nn.Module
  discriminator: nn.Module
  g_tx: optax.GradientTransformation
  d_tx: optax.GradientTransformation
  z_dim: int
  r1_gamma: float = 10.0
  r1_interval: int = 16
  pl_weight: float = 2.0
  pl_interval: int = 4
  pl_batch_shrink: int = 2
  pl_decay: float = 0.01
  style_mixing: float = 0.9
  ema_decay: float = 0.999


def r1_loss(d_fn, real: jax.Array, gamma: float, interval: int = 1) -> jax.Array:
  """The lazy R1 term: interval * gamma / 2 * mean_i ||grad_x D(x_i)||^2 over the real batch."""
  return interval * gamma * penalties.r1_penalty(d_fn, real, real, None)


def _mixing(spec: StyleGAN2Spec, key: jax.Array, batch: int) -> dict:
  """Style mixing inputs of G (Karras et al. 2019, sec. 3.1): a second z, and with probability `style_mixing`
  a crossover layer uniform in [1, num_ws), else num_ws (no mixing)."""
  num_ws = stylegan2.num_ws(spec.generator.resolution)
  z_key, cut_key, p_key = jax.random.split(key, 3)
  crossover = jax.random.randint(cut_key, (), 1, num_ws)
  crossover = jnp.where(jax.random.uniform(p_key) < spec.style_mixing, crossover, num_ws)
  return {"mixing_z": jax.random.normal(z_key, (batch, spec.z_dim)), "crossover": crossover}


def _generate(spec: StyleGAN2Spec, params, stats, key, batch: int, train: bool):
  """G(z) with style mixing and random noise -> (images, new batch_stats: w_avg updated when training)."""
  z_key, mix_key, noise_key = jax.random.split(key, 3)
  z = jax.random.normal(z_key, (batch, spec.z_dim))
  variables = {"params": params, "batch_stats": stats}
  kwargs = dict(train=train, rngs={"noise": noise_key}, **_mixing(spec, mix_key, batch))
  if train:
    images, updates = spec.generator.apply(variables, z, None, mutable=["batch_stats"], **kwargs)
    return images, updates["batch_stats"]
  return spec.generator.apply(variables, z, None, **kwargs), stats


def _discriminate(spec: StyleGAN2Spec, params, x):
  return spec.discriminator.apply({"params": params}, x, train=True)


def _apply_updates(tx, net: NetState, grads, stats=None) -> NetState:
  updates, opt_state = tx.update(grads, net.opt_state, net.params)
  return NetState(optax.apply_updates(net.params, updates), net.batch_stats if stats is None else stats, opt_state)


def main_update(spec: StyleGAN2Spec, state: GANState, batch: dict, rng: jax.Array):
  """G's then D's logistic loss (one update each), G's EMA; advances the step."""
  rng = jax.random.fold_in(rng, state.step)
  real = batch["image"]
  b = real.shape[0]

  def g_loss(params):
    fake, stats = _generate(spec, params, state.g.batch_stats, jax.random.fold_in(rng, 0), b, True)
    return _LOGISTIC.g_loss(_discriminate(spec, state.d.params, fake)), stats

  (loss_g, stats), grads = jax.value_and_grad(g_loss, has_aux=True)(state.g.params)
  g = _apply_updates(spec.g_tx, state.g, grads, stats)

  fake, _ = _generate(spec, g.params, g.batch_stats, jax.random.fold_in(rng, 1), b, False)
  fake = jax.lax.stop_gradient(fake)

  def d_loss(params):
    real_out, fake_out = _discriminate(spec, params, real), _discriminate(spec, params, fake)
    return _LOGISTIC.d_loss(real_out, fake_out), (real_out.mean(), fake_out.mean())

  (loss_d, (d_real, d_fake)), grads = jax.value_and_grad(d_loss, has_aux=True)(state.d.params)
  d = _apply_updates(spec.d_tx, state.d, grads)
  g_ema = optax.incremental_update(g.params, state.g_ema, 1.0 - spec.ema_decay)
  metrics = {"g_loss": loss_g, "d_loss": loss_d, "d_real": d_real, "d_fake": d_fake,
             "r1_penalty": state.extra["r1_penalty"], "pl_penalty": state.extra["pl_penalty"],
             "pl_mean": state.extra["pl_mean"]}
  return state.replace(step=state.step + 1, g=g, d=d, g_ema=g_ema), metrics


def r1_update(spec: StyleGAN2Spec, state: GANState, batch: dict, rng: jax.Array):
  """D's lazy R1 update (every r1_interval steps, the penalty scaled by the interval)."""
  del rng
  real = batch["image"].astype(jnp.float32)

  def loss(params):
    value = r1_loss(lambda x: _discriminate(spec, params, x), real, spec.r1_gamma, spec.r1_interval)
    return value, value / (spec.r1_gamma * spec.r1_interval)

  (_, penalty), grads = jax.value_and_grad(loss, has_aux=True)(state.d.params)
  return state.replace(d=_apply_updates(spec.d_tx, state.d, grads),
                       extra={**state.extra, "r1_penalty": penalty}), {}


def pl_update(spec: StyleGAN2Spec, state: GANState, batch: dict, rng: jax.Array):
  """G's lazy path-length update (sec. 3.2): on batch / pl_batch_shrink fresh samples, weight x interval;
  the running mean a of the lengths lives in state.extra['pl_mean']."""
  rng = jax.random.fold_in(jax.random.fold_in(rng, state.step), 2)
  b = max(batch["image"].shape[0] // spec.pl_batch_shrink, 1)
  z_key, mix_key, noise_key, y_key = jax.random.split(rng, 4)
  z = jax.random.normal(z_key, (b, spec.z_dim))
  mixing = _mixing(spec, mix_key, b)

  def loss(params):
    variables = {"params": params, "batch_stats": state.g.batch_stats}
    ws = spec.generator.apply(variables, z, None, train=False, method="map", **mixing)
    synthesize = lambda w: spec.generator.apply(variables, w, method="synthesize", rngs={"noise": noise_key})
    penalty, mean = stylegan2.path_length_penalty(synthesize, ws, y_key, state.extra["pl_mean"], spec.pl_decay)
    return penalty * spec.pl_weight * spec.pl_interval, (penalty, mean)

  (_, (penalty, mean)), grads = jax.value_and_grad(loss, has_aux=True)(state.g.params)
  return state.replace(g=_apply_updates(spec.g_tx, state.g, grads),
                       extra={**state.extra, "pl_penalty": penalty, "pl_mean": mean}), {}


def _options(config: ConfigDict) -> dict:
  opts = {"r1_gamma": 10.0, "r1_interval": 16, "pl_weight": 2.0, "pl_interval": 4, "pl_batch_shrink": 2,
          "pl_decay": 0.01, "style_mixing": 0.9, **config.get("stylegan2", {})}
  if opts["r1_interval"] < 0 or opts["pl_interval"] < 0 or opts["pl_batch_shrink"] < 1:
    raise UserError(f"stylegan2: r1_interval and pl_interval must be >= 0 (0: off) and pl_batch_shrink >= 1, "
                    f"got {opts['r1_interval']}, {opts['pl_interval']}, {opts['pl_batch_shrink']}")
  if not 0 <= opts["style_mixing"] <= 1:
    raise UserError(f"stylegan2: style_mixing is a probability, got {opts['style_mixing']}")
  return opts


def build_spec(config: ConfigDict, data: DataSpec) -> StyleGAN2Spec:
  if config.model.get("name") != "stylegan2":
    raise UserError(f"the stylegan2 task trains model 'stylegan2', got {config.model.get('name')!r}")
  if not 0 < config.ema_decay < 1:
    raise UserError(f"stylegan2 keeps an EMA of G: ema_decay must be in (0, 1), got {config.ema_decay}")
  opts = _options(config)
  generator, discriminator = gan_models.create(config.model, data.shape, {"adv": True})
  return StyleGAN2Spec(generator, discriminator,
                       g_tx=lazy_adam(config.g_optimizer, config.total_steps, opts["pl_interval"]),
                       d_tx=lazy_adam(config.d_optimizer, config.total_steps, opts["r1_interval"]),
                       z_dim=generator.z_dim, ema_decay=config.ema_decay, **opts)


@TASKS.register("stylegan2")
class StyleGAN2Task(Unconditional):
  """StyleGAN2 (`gans.train.task.Task` and `Sampler`, unconditional)."""

  def __init__(self, config: ConfigDict, data: DataSpec, mesh=None):
    del mesh
    self.config, self.data = config, data
    self.spec = build_spec(config, data)
    self.examples_per_step = config.batch_size
    s = self.spec
    self.step = LazyStep(functools.partial(main_update, s), (
        LazyUpdate("path_length", s.pl_interval if s.pl_weight else 0, functools.partial(pl_update, s)),
        LazyUpdate("r1", s.r1_interval if s.r1_gamma else 0, functools.partial(r1_update, s))))
    self._sample = jax.jit(self._sample_batch, static_argnames=("psi",))

  def init(self, rng: jax.Array) -> GANState:
    g_rng, d_rng = jax.random.split(rng)
    s = self.spec
    g_vars = s.generator.init(g_rng, jnp.zeros((1, s.z_dim)), train=False)
    d_params = s.discriminator.init(d_rng, jnp.zeros((1, *self.data.shape)), train=False)["params"]
    g = NetState(g_vars["params"], g_vars["batch_stats"], s.g_tx.init(g_vars["params"]))
    zero = jnp.zeros((), jnp.float32)
    return GANState(jnp.zeros((), jnp.int32), g, NetState(d_params, {}, s.d_tx.init(d_params)), g_vars["params"],
                    {"pl_mean": zero, "pl_penalty": zero, "r1_penalty": zero})

  def _sample_batch(self, state, z, key, psi):
    params = state.g.params if state.g_ema is None else state.g_ema
    return self.spec.generator.apply({"params": params, "batch_stats": state.g.batch_stats}, z, None, train=False,
                                     truncation_psi=psi, rngs={"noise": key})

  def sample(self, state, num: int, seed: int, batch_size: int = 500, labels=None,
             truncation: float | None = None) -> np.ndarray:
    """`num` samples from the EMA generator (noise drawn from `seed` too); `truncation` = psi in W (Karras et
    al. 2019, sec. 3.2): w_avg + psi (w - w_avg), None for none."""
    if labels is not None:
      raise UserError("this model is unconditional: labels do not apply")
    psi = 1.0 if truncation is None else float(truncation)
    key = jax.random.key(seed)
    z = jax.random.normal(key, (num, self.spec.z_dim))
    out = [np.asarray(self._sample(state, z[i:i + batch_size], jax.random.fold_in(key, i), psi=psi))
           for i in range(0, num, batch_size)]
    return np.concatenate(out).astype(np.float32)

  def style_mixing(self, state, seed: int, num: int = 5, crossover: int = 4) -> np.ndarray:
    """Style mixing as in Karras et al. 2019, fig. 3: a (num + 1)^2 grid [(num + 1)^2, H, W, C] whose top row
    holds `num` samples A (after a blank corner), whose left column holds `num` samples B, and whose cell (i, j)
    takes the styles of the layers before `crossover` (the coarse resolutions: 4 = the 4x4 and 8x8 blocks)
    from B_i and the others from A_j; noise off (noise_mode 'none'), so only the styles differ."""
    if not 0 < crossover < self.spec.generator.num_ws:
      raise UserError(f"crossover must lie in (0, {self.spec.generator.num_ws}), got {crossover}")
    z_a, z_b = jax.random.normal(jax.random.key(seed), (2, num, self.spec.z_dim))
    params = state.g.params if state.g_ema is None else state.g_ema
    g = functools.partial(self.spec.generator.apply, {"params": params, "batch_stats": state.g.batch_stats},
                          train=False, noise_mode="none")
    a, b = np.asarray(g(z_a)), np.asarray(g(z_b))
    mixed = np.asarray(g(jnp.repeat(z_b, num, 0), mixing_z=jnp.tile(z_a, (num, 1)), crossover=crossover))
    blank = np.ones_like(a[:1])
    rows = [np.concatenate([blank, a])] + [np.concatenate([b[i:i + 1], mixed[i * num:(i + 1) * num]])
                                           for i in range(num)]
    return np.concatenate(rows).astype(np.float32)

  def evaluate(self, state, step: int, workdir: str) -> dict:
    """Writes samples/step_<N>.png (64 samples, and 16 at psi = 0.5 in the last rows) and
    samples/mixing_step_<N>.png (`style_mixing`); no metrics."""
    if jax.process_index() == 0:
      images = np.concatenate([self.sample(state, 48, seed=self.config.seed + 1),
                               self.sample(state, 16, seed=self.config.seed + 1, truncation=0.5)])
      visualize.save_image_grid(images, os.path.join(workdir, "samples", f"step_{step}.png"), ncols=8)
      crossover = min(4, self.spec.generator.num_ws - 1)
      visualize.save_image_grid(self.style_mixing(state, self.config.seed + 1, crossover=crossover),
                                os.path.join(workdir, "samples", f"mixing_step_{step}.png"), ncols=6)
    return {}
