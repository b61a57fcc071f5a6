"""The GAN task: builds a GANSpec from a config and gives the loop its init, step and evaluation."""
import functools
import os

import jax
import jax.numpy as jnp
import numpy as np
from ml_collections import ConfigDict

from gans import losses, penalties, visualize
from gans.data import toy
from gans.data.pipeline import DataSpec
from gans.errors import UserError
from gans.models import gan as gan_models
from gans.train import gan_step, optim


def build_spec(config: ConfigDict, data: DataSpec, batch_sharding=None) -> gan_step.GANSpec:
  """Models, optimizers, loss and penalty named in the config."""
  generator, discriminator = gan_models.create(config.model, data.shape)
  if config.n_critic < 1:
    raise UserError(f"n_critic must be >= 1, got {config.n_critic}")
  return gan_step.GANSpec(
      generator=generator, discriminator=discriminator,
      g_tx=optim.make(config.g_optimizer, config.total_steps),
      d_tx=optim.make(config.d_optimizer, config.total_steps * config.n_critic),
      loss=losses.get_loss(config.loss), penalty=penalties.get_penalty(config.penalty),
      penalty_weight=config.penalty_weight, n_critic=config.n_critic, z_dim=config.model.z_dim,
      ema_decay=config.ema_decay, weight_clip=config.weight_clip, batch_sharding=batch_sharding)


class GANTask:
  """What the train loop needs for a GAN: init, step, evaluation and sampling."""

  def __init__(self, config: ConfigDict, data: DataSpec, batch_sharding=None):
    self.config, self.data = config, data
    self.spec = build_spec(config, data, batch_sharding)
    self.examples_per_step = config.batch_size * config.n_critic
    self.step = functools.partial(gan_step.train_step, self.spec)
    self._generate = jax.jit(functools.partial(gan_step.generate, self.spec))

  def init(self, rng: jax.Array) -> gan_step.GANState:
    return gan_step.init_state(self.spec, rng, self.data.shape)

  def sample(self, state, num: int, seed: int, batch_size: int = 500) -> np.ndarray:
    """`num` samples from G (EMA weights when kept), in batches, as float32 numpy."""
    z = jax.random.normal(jax.random.key(seed), (num, self.spec.z_dim))
    out = [np.asarray(self._generate(state, z[i:i + batch_size])) for i in range(0, num, batch_size)]
    return np.concatenate(out).astype(np.float32)

  def evaluate(self, state, step: int, workdir: str) -> dict:
    """Writes samples/step_<N>.png; for 2-D mixtures also returns the PacGAN mode-coverage metrics."""
    from gans.metrics import mode_coverage  # pylint: disable=g-import-not-at-top
    path = os.path.join(workdir, "samples", f"step_{step}.png")
    if self.config.dataset in toy.MIXTURES:
      points = self.sample(state, 2500, seed=self.config.seed + 1)  # 2,500 samples (Lin et al. 2018, sec. 5.1)
      modes = toy.modes(self.config.dataset)
      result = mode_coverage.mode_coverage(points, modes, toy.mode_std(self.config.dataset))
      if jax.process_index() == 0:
        visualize.save_scatter(points, path, modes, f"step {step}: {result['modes_captured']} modes")
      return result
    if jax.process_index() == 0:
      visualize.save_image_grid(self.sample(state, 64, seed=self.config.seed + 1), path, ncols=8)
    return {}
