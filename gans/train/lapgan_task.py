"""LAPGAN training (Denton et al. 2015, sec. 3): one GAN per level of a Laplacian pyramid, trained independently.

Per step and level, on the same real batch I: the coarsest level's G_0 / D_0 learn the low-pass image I_K
(unconditional); every finer level k learns the band-pass residual h_k = I_k - u(I_{k+1}) conditioned on
the upsampled coarser REAL image u(I_{k+1}) (sec. 3: "the coarse image is taken from the training set").
Each level is a standard GAN (the logistic loss, non-saturating G loss); one D then one G update per level and
step; the per-level optimizers are one optax optimizer over the level-keyed parameters (Adam acts per
parameter). Sampling runs coarse to fine (`gans.models.gan.lapgan.sample`).

Config keys: `model` {coarse_size, noise_dim, hidden_g0, hidden_d0, hidden_g, hidden_d, dropout},
`g_optimizer`, `d_optimizer` (the paper used SGD with momentum; configs/lapgan_fashion_mnist.py says what it uses).
"""
import dataclasses
import functools
import os

import jax
import jax.numpy as jnp
import numpy as np
import optax
from ml_collections import ConfigDict

from gans import losses, visualize
from gans.data.pipeline import DataSpec
from gans.errors import UserError
from gans.models.gan import lapgan
from gans.train import optim
from gans.train.gan_step import GANState, NetState
from gans.train.task import TASKS, Unconditional, WholeStep

_LOGISTIC = losses.get_loss("nsgan")


@dataclasses.dataclass(frozen=True)
class LAPGANSpec:
  """The pyramid's sizes (coarsest first) and each level's networks, keyed by str(size)."""
  sizes: tuple[int, ...]
  generators: tuple
  discriminators: tuple
  g_tx: optax.GradientTransformation
  d_tx: optax.GradientTransformation
  noise_dim: int = 100

  @property
  def keys(self) -> tuple[str, ...]:
    return tuple(str(s) for s in self.sizes)


def real_levels(images: jax.Array, num_levels: int) -> list[tuple[jax.Array, jax.Array | None]]:
  """For each level, coarsest first: (its real target, its conditioning u(I_{k+1}) or None). The coarsest
  target is the low-pass image I_K; the others are the residuals h_k."""
  pyramid = lapgan.laplacian_pyramid(images, num_levels)[::-1]  # I_K, h_{K-1}, ..., h_0
  lowpass = [images]
  for _ in range(num_levels - 1):
    lowpass.append(lapgan.downsample(lowpass[-1]))
  lowpass = lowpass[::-1]  # I_K, ..., I_0
  return [(pyramid[0], None)] + [(pyramid[k], lapgan.upsample(lowpass[k - 1])) for k in range(1, num_levels)]


def _level_noise(spec: LAPGANSpec, k: int, key, batch: int):
  if k == 0:
    return jax.random.uniform(key, (batch, spec.noise_dim), minval=-1.0, maxval=1.0)
  return jax.random.uniform(key, (batch, spec.sizes[k], spec.sizes[k], 1), minval=-1.0, maxval=1.0)


def _g_apply(spec, k, params, z, coarse):
  args = (z,) if k == 0 else (z, coarse)
  return spec.generators[k].apply({"params": params}, *args, train=True)


def _d_apply(spec, k, params, x, coarse, key):
  args = (x,) if k == 0 else (x, coarse)
  return spec.discriminators[k].apply({"params": params}, *args, train=True, rngs={"dropout": key})


def train_step(spec: LAPGANSpec, state: GANState, batch: dict, rng: jax.Array):
  """Every level: one D update then one G update on its own pyramid level of the real batch."""
  rng = jax.random.fold_in(rng, state.step)
  images = batch["image"].astype(jnp.float32)
  b = images.shape[0]
  d_grads, g_grads, metrics = {}, {}, {}
  for k, (target, coarse) in enumerate(real_levels(images, len(spec.sizes))):
    key = spec.keys[k]
    z_d, _, drop_d, _ = jax.random.split(jax.random.fold_in(rng, k), 4)
    fake = jax.lax.stop_gradient(_g_apply(spec, k, state.g.params[key], _level_noise(spec, k, z_d, b), coarse))

    def d_loss(params):
      drop_real, drop_fake = jax.random.split(drop_d)
      return _LOGISTIC.d_loss(_d_apply(spec, k, params, target, coarse, drop_real),
                              _d_apply(spec, k, params, fake, coarse, drop_fake))

    metrics[f"d_loss_{key}"], d_grads[key] = jax.value_and_grad(d_loss)(state.d.params[key])
  updates, d_opt = spec.d_tx.update(d_grads, state.d.opt_state, state.d.params)
  d = NetState(optax.apply_updates(state.d.params, updates), {}, d_opt)
  for k, (target, coarse) in enumerate(real_levels(images, len(spec.sizes))):
    key = spec.keys[k]
    _, z_g, _, drop_g = jax.random.split(jax.random.fold_in(rng, k), 4)
    z = _level_noise(spec, k, z_g, b)

    def g_loss(params):
      return _LOGISTIC.g_loss(_d_apply(spec, k, d.params[key], _g_apply(spec, k, params, z, coarse), coarse, drop_g))

    metrics[f"g_loss_{key}"], g_grads[key] = jax.value_and_grad(g_loss)(state.g.params[key])
  updates, g_opt = spec.g_tx.update(g_grads, state.g.opt_state, state.g.params)
  g = NetState(optax.apply_updates(state.g.params, updates), {}, g_opt)
  metrics["d_loss"] = sum(metrics[f"d_loss_{key}"] for key in spec.keys) / len(spec.keys)
  metrics["g_loss"] = sum(metrics[f"g_loss_{key}"] for key in spec.keys) / len(spec.keys)
  return state.replace(step=state.step + 1, g=g, d=d), metrics


def build_spec(config: ConfigDict, data: DataSpec) -> LAPGANSpec:
  if config.model.get("name") != "lapgan":
    raise UserError(f"the lapgan task trains model 'lapgan', got {config.model.get('name')!r}")
  if len(data.shape) != 3 or data.shape[0] != data.shape[1]:
    raise UserError(f"lapgan needs square images [S, S, C], got data of shape {data.shape}")
  m = {"coarse_size": 8, "noise_dim": 100, "hidden_g0": 1200, "hidden_d0": 600, "hidden_g": 64, "hidden_d": 64,
       "dropout": 0.5, **config.model.to_dict()}
  sizes = tuple(lapgan.scales(data.shape[0], int(m["coarse_size"])))
  channels = data.shape[2]
  generators = (lapgan.CoarseGenerator(sizes[0], channels, int(m["hidden_g0"])),
                *(lapgan.LevelGenerator(channels, int(m["hidden_g"])) for _ in sizes[1:]))
  discriminators = (lapgan.CoarseDiscriminator(int(m["hidden_d0"]), float(m["dropout"])),
                    *(lapgan.LevelDiscriminator(int(m["hidden_d"]), float(m["dropout"])) for _ in sizes[1:]))
  return LAPGANSpec(sizes, generators, discriminators, optim.make(config.g_optimizer, config.total_steps),
                    optim.make(config.d_optimizer, config.total_steps), int(m["noise_dim"]))


@TASKS.register("lapgan")
class LAPGANTask(Unconditional):
  """LAPGAN (`gans.train.task.Task` and `Sampler`, unconditional)."""

  def __init__(self, config: ConfigDict, data: DataSpec, mesh=None):
    del mesh
    self.config, self.data = config, data
    self.spec = build_spec(config, data)
    self.examples_per_step = config.batch_size
    self.step = WholeStep(functools.partial(train_step, self.spec))
    self._sample = jax.jit(self._sample_levels, static_argnames=("batch",))

  def init(self, rng: jax.Array) -> GANState:
    s, c = self.spec, self.data.shape[2]
    g, d = {}, {}
    for k, (size, key) in enumerate(zip(s.sizes, s.keys)):
      g_rng, d_rng = jax.random.split(jax.random.fold_in(rng, k))
      image = jnp.zeros((1, size, size, c))
      g_args = (jnp.zeros((1, s.noise_dim)),) if k == 0 else (jnp.zeros((1, size, size, 1)), image)
      g[key] = s.generators[k].init(g_rng, *g_args, train=False)["params"]
      d[key] = s.discriminators[k].init(d_rng, *((image,) if k == 0 else (image, image)), train=False)["params"]
    return GANState(jnp.zeros((), jnp.int32), NetState(g, {}, s.g_tx.init(g)), NetState(d, {}, s.d_tx.init(d)),
                    None, {})

  def _sample_levels(self, state, key, batch: int) -> list[jax.Array]:
    s = self.spec
    applies = [functools.partial(lambda k, z, coarse, cond: s.generators[k].apply(
        {"params": state.g.params[s.keys[k]]}, z, coarse, train=False), k) for k in range(1, len(s.sizes))]
    g0 = lambda z, cond: s.generators[0].apply({"params": state.g.params[s.keys[0]]}, z, train=False)
    return lapgan.sample(g0, applies, key, batch, s.noise_dim)

  def sample_levels(self, state, num: int, seed: int) -> list[np.ndarray]:
    """The images at every scale, coarsest first, for `num` samples (the first batch of `sample`'s)."""
    key = jax.random.fold_in(jax.random.key(seed), 0)
    return [np.asarray(x, np.float32) for x in self._sample(state, key, batch=num)]

  def sample(self, state, num: int, seed: int, batch_size: int = 500, labels=None) -> np.ndarray:
    """`num` samples (the finest level), coarse to fine, float32."""
    if labels is not None:
      raise UserError("this model is unconditional: labels do not apply")
    key = jax.random.key(seed)
    out = [np.asarray(self._sample(state, jax.random.fold_in(key, i), batch=min(batch_size, num - i))[-1])
           for i in range(0, num, batch_size)]
    return np.concatenate(out).astype(np.float32)

  def evaluate(self, state, step: int, workdir: str) -> dict:
    """Writes samples/step_<N>.png and samples/pyramid_step_<N>.png (8 samples: one row per scale, coarsest
    first, upscaled to the image size)."""
    if jax.process_index() == 0:
      samples = os.path.join(workdir, "samples")
      visualize.save_image_grid(self.sample(state, 64, seed=self.config.seed + 1),
                                os.path.join(samples, f"step_{step}.png"), ncols=8)
      size = self.data.shape[0]
      rows = [np.repeat(np.repeat(x, size // x.shape[1], axis=1), size // x.shape[2], axis=2)
              for x in self.sample_levels(state, 8, seed=self.config.seed + 1)]
      visualize.save_image_grid(np.concatenate(rows), os.path.join(samples, f"pyramid_step_{step}.png"), ncols=8)
    return {}
