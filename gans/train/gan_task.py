"""The GAN task: builds a GANSpec from a config (models, optimizers, loss, penalty, variant, tricks) and gives
the loop its init, step, evaluation and sampling.

Sampling options of BigGAN (Brock, Donahue & Simonyan 2019): the truncation trick (sec. 3.1; `sample(...,
truncation=T)`), and standing statistics (app. C): with `config.standing_stats_batches` > 0, samples from the EMA
generator of a model with BatchNorm use statistics re-estimated with the EMA weights, the mean over that many
batches of z of each BN's batch mean and variance (BigGAN-PyTorch's `accumulate_standing_stats`), instead of
the running statistics the raw weights accumulated in training.
"""
import functools
import json
import os

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
from flax import traverse_util
from ml_collections import ConfigDict

from gans import losses, parallel, penalties, regularizers, visualize
from gans.data import toy
from gans.data.pipeline import DataSpec
from gans.errors import UserError
from gans.metrics import evaluator, features, mode_coverage
from gans.models import gan as gan_models
from gans.train import gan_step, optim
from gans.train.gan_parts import TRICKS, VARIANTS
from gans.train.task import TASKS


def build_parts(config: ConfigDict, data: DataSpec) -> tuple:
  """The config's variant and the tricks its options turn on."""
  variant = VARIANTS.get(config.get("variant", "unconditional")).from_config(config, data)
  tricks = (TRICKS.get(name).from_config(config, data) for name in TRICKS.names())
  return variant, tuple(t for t in tricks if t is not None)


def build_spec(config: ConfigDict, data: DataSpec, batch_sharding=None) -> gan_step.GANSpec:
  """Models, optimizers, loss, penalty, variant and tricks named in the config."""
  if config.n_critic < 1:
    raise UserError(f"n_critic must be >= 1, got {config.n_critic}")
  variant, tricks = build_parts(config, data)
  parts = (variant, *tricks)
  accum = optim.accum_steps(config, multiple_of=max(p.batch_multiple for p in parts))
  model_config = ConfigDict(config.model.to_dict())
  d_heads = {}
  for part in parts:
    model_config.update(part.model_options())
    d_heads.update(part.d_heads())
  generator, discriminator = gan_models.create(model_config, data.shape, d_heads)
  return gan_step.GANSpec(
      generator=generator, discriminator=discriminator,
      g_tx=optim.make(config.g_optimizer, config.total_steps),
      d_tx=optim.make(config.d_optimizer, config.total_steps * config.n_critic),
      loss=losses.get_loss(config.loss, **dict(config.get("loss_options", {}))),
      penalty=penalties.get_penalty(config.penalty, **dict(config.get("penalty_options", {}))),
      penalty_weight=config.penalty_weight, n_critic=config.n_critic, z_dim=config.model.z_dim,
      ema_decay=config.ema_decay, batch_sharding=batch_sharding, accum_steps=accum,
      variant=variant, tricks=tricks)


STANDING_STATS_STREAM = 0x7374616E  # folded into a sample call's seed for the standing-statistics batches


def _batch_moments(x: jax.Array, axis: int) -> tuple[jax.Array, jax.Array]:
  """Mean and (biased, two-pass) variance of x over every axis but `axis`, in float32, as a BN computes them."""
  x = x.astype(jnp.float32)
  axes = tuple(a for a in range(x.ndim) if a != axis % x.ndim)
  mean = x.mean(axes)
  return mean, jnp.square(x - jnp.expand_dims(mean, axes)).mean(axes)


def standing_stats(spec: gan_step.GANSpec, state: gan_step.GANState, rng: jax.Array, num_batches: int,
                   batch_size: int):
  """G's batch_stats with every BatchNorm's running mean and variance replaced by the mean, over
  `num_batches` batches of G's inputs drawn from `rng`, of that BN's batch mean and variance, with G run in
  training mode on the EMA weights (raw weights when no EMA is kept). Other batch_stats entries (spectral
  norm's vectors) are kept. Pure and jittable (spec, num_batches and batch_size static)."""
  params = state.g_ema if state.g_ema is not None else state.g.params

  def batch_moments(k):
    z, cond, _ = gan_step.sample_inputs(spec, jax.random.fold_in(rng, k), batch_size)
    moments = {}

    def record(next_fun, args, kwargs, context):
      if isinstance(context.module, nn.BatchNorm) and context.method_name == "__call__":
        moments[context.module.scope.path] = _batch_moments(args[0], context.module.axis)
      return next_fun(*args, **kwargs)

    with nn.intercept_methods(record):
      gan_step.apply_generator(spec, params, state.g.batch_stats, z, cond, True, state.extra)
    return moments

  total = jax.lax.fori_loop(1, num_batches, lambda k, acc: jax.tree.map(jnp.add, acc, batch_moments(k)),
                            batch_moments(0))
  flat = traverse_util.flatten_dict(state.g.batch_stats)
  for path, (mean, var) in total.items():
    for name, value in (("mean", mean), ("var", var)):
      old = flat[(*path, name)]
      flat[(*path, name)] = (value / num_batches).astype(old.dtype).reshape(old.shape)
  return traverse_util.unflatten_dict(flat)


@TASKS.register("gan")
class GANTask:
  """A GAN (`gans.train.task.Task` and `Sampler`): init, step, evaluation and sampling."""

  def __init__(self, config: ConfigDict, data: DataSpec, mesh=None):
    self.config, self.data = config, data
    self.spec = build_spec(config, data, None if mesh is None else parallel.data_sharded(mesh))
    self.examples_per_step = config.batch_size * config.n_critic
    self.step = gan_step.split_step(self.spec)
    self._generate = jax.jit(functools.partial(gan_step.generate, self.spec))
    self._classify = jax.jit(lambda state, x: gan_step.discriminate(
        self.spec, state.d.params, state.d.batch_stats, x, None, train=False)[0]["class_logits"])
    self._extractor = None  # built at the first evaluation with eval_extractor
    self.standing_stats_batches = config.get("standing_stats_batches", 0)
    if self.standing_stats_batches < 0:
      raise UserError(f"standing_stats_batches must be >= 0, got {self.standing_stats_batches}")
    self._standing_stats = jax.jit(functools.partial(
        standing_stats, self.spec, num_batches=max(self.standing_stats_batches, 1),
        batch_size=config.get("standing_stats_batch_size", 0) or config.batch_size))

  def init(self, rng: jax.Array) -> gan_step.GANState:
    return gan_step.init_state(self.spec, rng, self.data.shape)

  @property
  def conditional(self) -> bool:
    """Whether samples are drawn for given labels (cgan, acgan; infogan's categorical code)."""
    return self.spec.variant.draws_labels

  @property
  def num_labels(self) -> int:
    return self.spec.variant.num_labels

  @property
  def class_labels(self) -> int:
    return self.num_labels if self.spec.variant.labels_are_classes else 0

  def sampling_state(self, state, seed: int):
    """The state samples come from: with `standing_stats_batches` and an EMA generator with BatchNorm, G's
    statistics re-estimated with the EMA weights (`standing_stats`, from `seed`); else `state`."""
    if not self.standing_stats_batches or state.g_ema is None or not jax.tree.leaves(state.g.batch_stats):
      return state
    stats = self._standing_stats(state, jax.random.fold_in(jax.random.key(seed), STANDING_STATS_STREAM))
    return state.replace(g=state.g.replace(batch_stats=stats))

  def sample(self, state, num: int, seed: int, batch_size: int = 500, labels=None,
             truncation: float | None = None) -> np.ndarray:
    """`num` samples from G (EMA weights when kept, with standing statistics when configured), in batches,
    as float32 numpy.

    For conditional models `labels` ([num] ints) fixes the class (infogan: the categorical code); by
    default they are drawn uniformly. `truncation` T: z from the standard normal truncated to [-T, T] by
    resampling (Brock et al. 2019, sec. 3.1); None: the plain N(0, I) draw.
    """
    if truncation is not None and not truncation > 0:
      raise UserError(f"truncation must be a positive threshold, got {truncation}")
    if labels is not None:
      labels = np.asarray(labels, np.int32)
      if not self.conditional:
        raise UserError("this model is unconditional: labels do not apply")
      if labels.shape != (num,) or labels.min() < 0 or labels.max() >= self.num_labels:
        raise UserError(f"labels must be {num} integers in [0, {self.num_labels}), got {labels.tolist()[:10]}")
    z, cond, _ = gan_step.sample_inputs(self.spec, jax.random.key(seed), num,
                                        None if labels is None else jnp.asarray(labels))
    if truncation is not None:
      z = regularizers.truncated_normal_resampled(jax.random.key(seed), z.shape, truncation, z.dtype)
    state = self.sampling_state(state, seed)
    out = [np.asarray(self._generate(state, z[i:i + batch_size], None if cond is None else cond[i:i + batch_size]))
           for i in range(0, num, batch_size)]
    return np.concatenate(out).astype(np.float32)

  def _sample_quality(self, state, workdir: str) -> dict:
    """FID/FCD, IS/classifier score, KID, precision/recall, density/coverage of `eval_num_samples` samples
    with `eval_extractor` (see gans.metrics.evaluator); the protocol goes to workdir/eval_protocol.json."""
    if self._extractor is None:
      self._extractor = features.get_extractor(self.config.eval_extractor)
    result = evaluator.evaluate_state(self.config, self, state, self.config.get("eval_num_samples", 2000),
                                      self._extractor, seed=self.config.seed + 2,
                                      cache_dir=evaluator.default_cache_dir(self.config, workdir),
                                      kid_subsets=self.config.get("eval_kid_subsets", 100))
    protocol = result.pop("protocol")
    if jax.process_index() == 0:
      with open(os.path.join(workdir, "eval_protocol.json"), "w") as f:
        json.dump(protocol, f, indent=2, sort_keys=True)
    return result

  def evaluate(self, state, step: int, workdir: str) -> dict:
    """Writes samples/step_<N>.png; for 2-D mixtures also returns the PacGAN mode-coverage metrics; the
    variant's own metrics (SGAN's test accuracy); sample quality with `eval_extractor`."""
    path = os.path.join(workdir, "samples", f"step_{step}.png")
    if self.config.dataset in toy.MIXTURES:
      points = self.sample(state, 2500, seed=self.config.seed + 1)  # 2,500 samples (Lin et al. 2018, sec. 5.1)
      modes = toy.modes(self.config.dataset)
      result = mode_coverage.mode_coverage(points, modes, toy.mode_std(self.config.dataset))
      if jax.process_index() == 0:
        visualize.save_scatter(points, path, modes, f"step {step}: {result['modes_captured']} modes")
      return result
    result = self.spec.variant.evaluate(functools.partial(self._classify, state), self.config)
    if self.config.get("eval_extractor"):
      result.update(self._sample_quality(state, workdir))
    if jax.process_index() == 0:
      if self.conditional:  # one row per label
        k = min(self.num_labels, 10)
        images = self.sample(state, k * 10, seed=self.config.seed + 1, labels=np.repeat(np.arange(k), 10))
        visualize.save_image_grid(images, path, ncols=10)
      else:
        visualize.save_image_grid(self.sample(state, 64, seed=self.config.seed + 1), path, ncols=8)
    return result
