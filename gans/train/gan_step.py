"""One GAN train step, written once: the variant and the tricks of a GAN are objects whose hooks it calls.

`train_step(spec, state, batch, rng) -> (state, metrics)` is pure and jittable; bind the spec with
`functools.partial` to get the `(state, batch, rng)` form. Per call it does `n_critic` discriminator
updates, each on its own real minibatch and fresh z (Goodfellow et al. 2014, Alg. 1; Arjovsky et al.
2017, Alg. 1), then one generator update, then the EMA of G's weights (Karras et al. 2018, sec. A.1;
Yazici et al. 2019).

What differs between GANs is data in the spec: the loss and penalty (`gans.losses`, `gans.penalties`), the
variant (`gan_parts.Variant`: conditioning, D heads, auxiliary terms; `gan_variants.py`) and the tricks
(`gan_parts.GANPart`: `gan_tricks.py`); the parts' `augment` hooks transform every real and generated batch D
sees in the adversarial terms, with a key folded from the update's (DiffAugment). D may return logits [B] or
a dict of heads {'adv', 'class_logits', 'q', 'features'}.
"""
import dataclasses
import functools
from typing import Any, Callable

import flax
import flax.linen as nn
import jax
import jax.numpy as jnp
import optax

from gans import losses, penalties
from gans.train import optim
from gans.train.gan_parts import DTerms, GANPart, GTerms, Variant
from gans.train.task import WholeStep, flops


@flax.struct.dataclass
class NetState:
  """One network's trainable state."""
  params: Any
  batch_stats: Any
  opt_state: Any


@flax.struct.dataclass
class GANState:
  """The whole GAN state: a pytree of arrays only (models and optimizers live in the GANSpec)."""
  step: jax.Array
  g: NetState
  d: NetState
  g_ema: Any  # EMA of G's params, or None when ema_decay == 0
  extra: Any = dataclasses.field(default_factory=dict)  # what the parts keep, e.g. BEGAN's {'k_t'}


@dataclasses.dataclass(frozen=True)
class GANSpec:
  """Everything a GAN step closes over."""
  generator: nn.Module
  discriminator: nn.Module
  g_tx: optax.GradientTransformation
  d_tx: optax.GradientTransformation
  loss: losses.GANLoss
  penalty: Callable = penalties.get_penalty("none")
  penalty_weight: float = 0.0
  n_critic: int = 1
  z_dim: int = 100
  ema_decay: float = 0.0
  batch_sharding: Any = None  # when set, z and fakes are sharded like the real batch
  accum_steps: int = 1  # micro-batches per D and per G update, gradients averaged (gans.train.optim)
  variant: Variant = Variant()
  tricks: tuple[GANPart, ...] = ()

  @property
  def parts(self) -> tuple[GANPart, ...]:
    return (self.variant, *self.tricks)


def _apply(module, params, batch_stats, x, train, cond=None):
  """Runs a module on x (and cond when given); returns (output, new batch_stats)."""
  variables = {"params": params, "batch_stats": batch_stats}
  args = (x,) if cond is None else (x, cond)
  if train and batch_stats:
    out, updates = module.apply(variables, *args, train=True, mutable=["batch_stats"])
    return out, updates["batch_stats"]
  return module.apply(variables, *args, train=train), batch_stats


def _add(total, term):
  return total if term is None else total + term


def apply_generator(spec: GANSpec, params, batch_stats, z, cond, train: bool, extra: dict):
  """G(z[, cond]) -> (images, new batch_stats), through the parts' `generator_call` hooks."""
  call = lambda z, cond: _apply(spec.generator, params, batch_stats, z, train, cond)
  for part in spec.parts:
    call = functools.partial(part.generator_call, call, extra=extra)
  return call(z, cond)


def d_input(spec: GANSpec, x):
  for part in spec.parts:
    x = part.d_input(x)
  return x


AUGMENT_STREAM = 0x617567  # folded into an update's rng for the parts' `augment` hooks


def augment(spec: GANSpec, x, rng):
  """The parts' `augment` hooks on a batch D is about to see (identity unless a part augments)."""
  for i, part in enumerate(spec.parts):
    x = part.augment(x, jax.random.fold_in(rng, i))
  return x


def _heads(spec: GANSpec, out) -> dict:
  heads = dict(out) if isinstance(out, dict) else {"adv": out}
  for part in spec.parts:
    heads = part.heads(heads)
  return heads


def discriminate(spec: GANSpec, params, stats, x, cond, train=True):
  """D on a batch of examples (before packing); `cond` is G's conditioning or the real batch's, which the
  variant passes to D or not. Returns (heads, stats)."""
  out, stats = _apply(spec.discriminator, params, stats, d_input(spec, x), train, spec.variant.d_cond(cond))
  return _heads(spec, out), stats


def _init_net(module, tx, rng, *inputs):
  variables = module.init(rng, *inputs, train=False)
  params = variables["params"]
  return NetState(params, variables.get("batch_stats", {}), tx.init(params))


def init_state(spec: GANSpec, rng: jax.Array, data_shape: tuple[int, ...]) -> GANState:
  """Initial state for examples of `data_shape` (without the batch dimension)."""
  g_rng, d_rng = jax.random.split(rng)
  n = max(part.batch_multiple for part in spec.parts)
  cond = (jnp.zeros((n, spec.variant.cond_dim)),) if spec.variant.cond_dim else ()
  g = _init_net(spec.generator, spec.g_tx, g_rng, jnp.zeros((n, spec.z_dim)), *cond)
  d_cond = spec.variant.d_cond(cond[0] if cond else None)
  d = _init_net(spec.discriminator, spec.d_tx, d_rng, d_input(spec, jnp.zeros((n, *data_shape))),
                *(() if d_cond is None else (d_cond,)))
  extra = {}
  for i, part in enumerate(spec.parts):
    extra.update(part.init_extra(jax.random.fold_in(rng, 1000 + i), g.params, d.params, spec))
  g_ema = jax.tree.map(jnp.copy, g.params) if spec.ema_decay else None  # its own buffers, so the state can be donated
  return GANState(jnp.zeros((), jnp.int32), g, d, g_ema, extra)


def _shard(spec: GANSpec, x):
  return x if spec.batch_sharding is None else jax.lax.with_sharding_constraint(x, spec.batch_sharding)


def sample_inputs(spec: GANSpec, rng, batch_size, labels=None):
  """G's inputs: z ~ N(0, I), and the variant's conditioning with the targets of its auxiliary losses.

  Returns:
    (z, cond or None, targets dict).
  """
  z = _shard(spec, jax.random.normal(rng, (batch_size, spec.z_dim)))
  cond, targets = spec.variant.sample_cond(jax.random.fold_in(rng, 1), batch_size, labels,
                                           functools.partial(_shard, spec))
  return z, cond, targets


def _d_update(spec: GANSpec, state: GANState, real, real_labels, rng):
  g, d, extra = state.g, state.d, state.extra
  z_rng, p_rng, l_rng = jax.random.split(rng, 3)
  z, cond, targets = sample_inputs(spec, z_rng, real.shape[0])
  d_inputs = spec.variant.d_inputs(l_rng)
  loss_kw = {k: v for part in spec.parts for k, v in part.d_loss_kwargs(extra).items()}

  def grad_fn(params, stats, inputs, p_rng):
    real, real_labels, z, cond, targets, d_inputs = inputs
    fake, _ = apply_generator(spec, g.params, g.batch_stats, z, cond, True, extra)
    fake = jax.lax.stop_gradient(fake)
    real_cond = spec.variant.real_cond(real_labels)

    a_rng = jax.random.fold_in(p_rng, AUGMENT_STREAM)
    real = augment(spec, real, jax.random.fold_in(a_rng, 0))
    fake = augment(spec, fake, jax.random.fold_in(a_rng, 1))

    def loss_fn(params):
      real_h, new_stats = discriminate(spec, params, stats, real, real_cond)
      fake_h, new_stats = discriminate(spec, params, new_stats, fake, cond)
      loss = spec.loss.d_loss(real_h["adv"], fake_h["adv"], **loss_kw)
      d_fn = lambda x: _heads(spec, _apply(spec.discriminator, params, new_stats, x, True,
                                           spec.variant.d_cond(real_cond))[0])["adv"]
      penalty = spec.penalty(d_fn, d_input(spec, real), d_input(spec, fake), p_rng)
      metrics = {"d_loss": loss, "penalty": penalty, "d_real": real_h["adv"].mean(), "d_fake": fake_h["adv"].mean()}
      total = loss + spec.penalty_weight * penalty
      terms = DTerms(real_h, fake_h, real_labels, targets, d_inputs,
                     lambda x, c: discriminate(spec, params, new_stats, x, c)[0], params, extra)
      for part in spec.parts:
        term, part_metrics = part.d_terms(terms)
        total = _add(total, term)
        metrics.update(part_metrics)
      return total, (new_stats, metrics)

    grads, (stats, metrics) = jax.grad(loss_fn, has_aux=True)(params)
    return grads, stats, metrics

  grads, stats, metrics = optim.accumulate_gradients(
      grad_fn, d.params, d.batch_stats, (real, real_labels, z, cond, targets, d_inputs), spec.accum_steps, p_rng)
  updates, opt_state = spec.d_tx.update(grads, d.opt_state, d.params)
  params = optax.apply_updates(d.params, updates)
  for part in spec.parts:
    params = part.after_d_update(params)
  return NetState(params, stats, opt_state), metrics


def _g_update(spec: GANSpec, state: GANState, real, real_labels, rng):
  g, d, extra = state.g, state.d, state.extra
  z, cond, targets = sample_inputs(spec, rng, real.shape[0])

  def grad_fn(params, stats, inputs, rng):
    real, real_labels, z, cond, targets = inputs
    real_cond = spec.variant.real_cond(real_labels)
    a_rng = jax.random.fold_in(rng, AUGMENT_STREAM)

    def loss_fn(params):
      fake, new_stats = apply_generator(spec, params, stats, z, cond, True, extra)
      fake_h, _ = discriminate(spec, d.params, d.batch_stats, augment(spec, fake, a_rng), cond)  # D's stats kept
      terms = GTerms(fake_h, targets, real, real_cond,
                     lambda x, c: discriminate(spec, d.params, d.batch_stats, x, c)[0], params, extra)
      loss = None
      for part in spec.parts:
        loss = part.g_loss(terms) if loss is None else loss
      loss = spec.loss.g_loss(fake_h["adv"]) if loss is None else loss
      metrics = {"g_loss": loss}
      for part in spec.parts:
        term, part_metrics = part.g_terms(terms)
        loss = _add(loss, term)
        metrics.update(part_metrics)
      return loss, (new_stats, metrics)

    grads, (stats, metrics) = jax.grad(loss_fn, has_aux=True)(params)
    return grads, stats, metrics

  grads, stats, metrics = optim.accumulate_gradients(
      grad_fn, g.params, g.batch_stats, (real, real_labels, z, cond, targets), spec.accum_steps, rng)
  updates, opt_state = spec.g_tx.update(grads, g.opt_state, g.params)
  return NetState(optax.apply_updates(g.params, updates), stats, opt_state), metrics


def _split_batch(spec: GANSpec, batch: dict):
  """[n_critic * m, ...] -> reals and labels [m, n_critic, ...]: the i-th D update takes column i.

  Row r holds examples r*n_critic .. r*n_critic+n_critic-1, so the batch sharding stays on axis 0.
  """
  images = batch["image"]
  m = images.shape[0] // spec.n_critic
  reals = images.reshape(m, spec.n_critic, *images.shape[1:])
  if spec.variant.uses_batch_labels:
    return reals, batch["label"].reshape(m, spec.n_critic)
  return reals, jnp.zeros((m, spec.n_critic), jnp.int32)


def critic_update(spec: GANSpec, state: GANState, batch: dict, rng: jax.Array, i) -> tuple[GANState, dict]:
  """The i-th of `train_step`'s n_critic D updates (on column i of the batch). `i` may be traced, so
  one compiled update serves all n_critic; returns the state with the new D and D's metrics."""
  rng = jax.random.fold_in(rng, state.step)
  d_rng = jax.random.split(jax.random.fold_in(rng, 0), spec.n_critic)[i]
  reals, labels = _split_batch(spec, batch)
  real = jax.lax.dynamic_index_in_dim(reals, i, axis=1, keepdims=False)
  label = jax.lax.dynamic_index_in_dim(labels, i, axis=1, keepdims=False)
  d, metrics = _d_update(spec, state, real, label, d_rng)
  return state.replace(d=d), metrics


def generator_update(spec: GANSpec, state: GANState, batch: dict, rng: jax.Array,
                     d_metrics: dict) -> tuple[GANState, dict]:
  """`train_step`'s G update after the D updates, then G's EMA and the parts' `after_step`; advances the
  step. `d_metrics` are the last D update's; returns them merged with G's."""
  rng = jax.random.fold_in(rng, state.step)
  reals, labels = _split_batch(spec, batch)
  g, g_metrics = _g_update(spec, state, reals[:, 0], labels[:, 0], jax.random.fold_in(rng, 1))
  g_ema = state.g_ema
  if spec.ema_decay:
    g_ema = optax.incremental_update(g.params, g_ema, 1.0 - spec.ema_decay)
  state = state.replace(g=g, g_ema=g_ema)
  extra, metrics = dict(state.extra), {**d_metrics, **g_metrics}
  for part in spec.parts:
    part_extra, part_metrics = part.after_step(state, d_metrics, g_metrics)
    extra.update(part_extra)
    metrics.update(part_metrics)
  return state.replace(step=state.step + 1, extra=extra), metrics


@dataclasses.dataclass(frozen=True)
class SplitStep:
  """A train step as its parts: `n_critic` calls of `critic(state, batch, rng, i)`, then
  `generator(state, batch, rng, d_metrics)`. Called as `(state, batch, rng) -> (state, metrics)`.

  Jitted whole, the n_critic copies of the D update are unrolled (not a lax loop: XLA:CPU ran the loop
  body's convolutions ~7x slower) and XLA compiles each copy. `jit` jits the two parts instead, so the D
  update is compiled once and called n_critic times; the result is the same.
  """
  critic: Callable
  generator: Callable
  n_critic: int
  __name__ = "train_step"  # what jax.jit names the compiled step (profiles, compilation cache)

  def __call__(self, state, batch, rng):
    d_metrics = None
    for i in range(self.n_critic):
      state, d_metrics = self.critic(state, batch, rng, jnp.asarray(i, jnp.int32))
    return self.generator(state, batch, rng, d_metrics)

  def jit(self, **jit_kwargs):
    """`jax.jit(self, **jit_kwargs)` when n_critic == 1; else this step with each part jitted, shardings
    given for (state, batch, rng) extended to the parts' fourth argument (i, d_metrics) as replicated."""
    if self.n_critic == 1:
      return WholeStep(self).jit(**jit_kwargs)
    kw = dict(jit_kwargs)
    if "in_shardings" in kw:
      kw["in_shardings"] = (*kw["in_shardings"], kw["in_shardings"][2])
    return SplitStep(jax.jit(self.critic, **kw), jax.jit(self.generator, **kw), self.n_critic)

  def compile(self, state, batch, rng) -> tuple[Callable, float]:
    """For jitted parts: this step with the parts compiled for these arguments, and its FLOPs per call."""
    i = jnp.asarray(0, jnp.int32)
    critic = self.critic.lower(state, batch, rng, i).compile()
    d_metrics = jax.eval_shape(self.critic, state, batch, rng, i)[1]
    generator = self.generator.lower(state, batch, rng, d_metrics).compile()
    return SplitStep(critic, generator, self.n_critic), self.n_critic * flops(critic) + flops(generator)


def split_step(spec: GANSpec) -> SplitStep:
  """`train_step(spec, ...)` as a SplitStep."""
  return SplitStep(functools.partial(critic_update, spec), functools.partial(generator_update, spec), spec.n_critic)


def train_step(spec: GANSpec, state: GANState, batch: dict, rng: jax.Array) -> tuple[GANState, dict]:
  """n_critic D updates then one G update. `batch['image']` holds n_critic * batch_size examples."""
  return split_step(spec)(state, batch, rng)


def generate(spec: GANSpec, state: GANState, z: jax.Array, cond: jax.Array | None = None,
             use_ema: bool = True) -> jax.Array:
  """Samples G(z[, cond]) in inference mode (running BatchNorm statistics), from the EMA weights if kept."""
  params = state.g_ema if use_ema and state.g_ema is not None else state.g.params
  return apply_generator(spec, params, state.g.batch_stats, z, cond, False, state.extra)[0]
