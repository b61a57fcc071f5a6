"""The GAN task: builds a GANSpec from a config (models, optimizers, loss, penalty, variant, tricks) and gives
the loop its init, step, evaluation and sampling."""
import functools
import json
import os

import jax
import jax.numpy as jnp
import numpy as np
from ml_collections import ConfigDict

from gans import losses, parallel, penalties, visualize
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

  def init(self, rng: jax.Array) -> gan_step.GANState:
    return gan_step.init_state(self.spec, rng, self.data.shape)

  @property
  def conditional(self) -> bool:
    """Whether samples are drawn for given labels (cgan, acgan; infogan's categorical code)."""
    return self.spec.variant.draws_labels

  @property
  def num_labels(self) -> int:
    return self.spec.variant.num_labels

  def sample(self, state, num: int, seed: int, batch_size: int = 500, labels=None) -> np.ndarray:
    """`num` samples from G (EMA weights when kept), in batches, as float32 numpy.

    For conditional models `labels` ([num] ints) fixes the class (infogan: the categorical code); by
    default they are drawn uniformly.
    """
    if labels is not None:
      labels = np.asarray(labels, np.int32)
      if not self.conditional:
        raise UserError("this model is unconditional: labels do not apply")
      if labels.shape != (num,) or labels.min() < 0 or labels.max() >= self.num_labels:
        raise UserError(f"labels must be {num} integers in [0, {self.num_labels}), got {labels.tolist()[:10]}")
    z, cond, _ = gan_step.sample_inputs(self.spec, jax.random.key(seed), num,
                                        None if labels is None else jnp.asarray(labels))
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
