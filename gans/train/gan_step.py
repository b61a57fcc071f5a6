"""One GAN train step, written once and parameterised by loss, penalty, n_critic, clipping and EMA.

`train_step(spec, state, batch, rng) -> (state, metrics)` is pure and jittable; bind the spec with
`functools.partial` to get the `(state, batch, rng)` form. Per call it does `n_critic` discriminator
updates, each on its own real minibatch and fresh z (Goodfellow et al. 2014, Alg. 1; Arjovsky et al.
2017, Alg. 1), then one generator update, then the EMA of G's weights (Karras et al. 2018, sec. A.1;
Yazici et al. 2019).

The variants are data in the spec, not copies of the step:
- `aux`: 'cgan' (G and D get the one-hot label; Mirza & Osindero 2014), 'acgan' (G gets the label, D
  a class head; Odena et al. 2017), 'infogan' (G gets codes, D a Q head; Chen et al. 2016), 'sgan'
  (D is a K+1-way classifier trained on a few labelled examples; Salimans et al. 2016, sec. 5).
- `feature_matching`: G matches D's mean features instead of the adversarial loss (Salimans et al.
  2016, sec. 3.1).
- `pack`: D sees m samples concatenated on the feature/channel axis (PacGAN, Lin et al. 2018).
- `began`: (gamma, lambda_k); k_t lives in `state.extra` (Berthelot et al. 2017, eq. 4).
D may return logits [B] or a dict of heads {'adv', 'class_logits', 'q', 'features'}.
"""
import dataclasses
import functools
from typing import Any, Callable, Optional

import flax
import flax.linen as nn
import jax
import jax.numpy as jnp
import optax

from gans import losses, penalties
from gans.train import optim


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
  extra: Any = dataclasses.field(default_factory=dict)  # e.g. BEGAN's {'k_t'}


AUX = ("none", "cgan", "acgan", "infogan", "sgan")


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
  weight_clip: float = 0.0  # WGAN critic weight clipping to [-c, c] (Arjovsky et al. 2017, Alg. 1 line 7)
  batch_sharding: Any = None  # when set, z and fakes are sharded like the real batch
  aux: str = "none"  # one of AUX
  aux_weight: float = 1.0  # weight of the auxiliary (class / mutual-information / supervised) terms
  num_classes: int = 0  # labels of cgan / acgan / sgan
  info_codes: tuple[int, int] = (0, 0)  # InfoGAN (categories of the categorical code, continuous codes)
  feature_matching: bool = False
  pack: int = 1
  began: Optional[tuple[float, float]] = None  # (gamma, lambda_k)
  labelled: Any = None  # SGAN's labelled subset (images [N, ...], labels [N]) as arrays
  labelled_batch: int = 0  # labelled examples per D update (SGAN)
  accum_steps: int = 1  # micro-batches per D and per G update, gradients averaged (gans.train.optim)

  @property
  def cond_dim(self) -> int:
    """Width of G's conditioning input (0: unconditional)."""
    if self.aux in ("cgan", "acgan"):
      return self.num_classes
    return sum(self.info_codes) if self.aux == "infogan" else 0


def _apply(module, params, batch_stats, x, train, cond=None):
  """Runs a module on x (and cond when given); returns (output, new batch_stats)."""
  variables = {"params": params, "batch_stats": batch_stats}
  args = (x,) if cond is None else (x, cond)
  if train and batch_stats:
    out, updates = module.apply(variables, *args, train=True, mutable=["batch_stats"])
    return out, updates["batch_stats"]
  return module.apply(variables, *args, train=train), batch_stats


def pack(x: jax.Array, m: int) -> jax.Array:
  """PacGAN packing (Lin et al. 2018, sec. 3): [B, ..., C] -> [B/m, ..., m*C]; pack j holds samples
  j*m .. j*m+m-1, sample j*m+i in channels i*C .. (i+1)*C-1 (for flat data C is the feature axis)."""
  if m == 1:
    return x
  b, rest = x.shape[0], x.shape[1:]
  x = x.reshape(b // m, m, *rest)
  x = jnp.moveaxis(x, 1, -2)  # [B/m, ..., m, C]
  return x.reshape(b // m, *rest[:-1], m * rest[-1])


def _heads(spec: GANSpec, out) -> dict:
  heads = dict(out) if isinstance(out, dict) else {"adv": out}
  if spec.aux == "sgan":  # Salimans et al. 2016, sec. 5: the K+1-th logit is fixed at 0.
    heads["adv"] = losses.k_plus_one_logit(heads["class_logits"])
  return heads


def discriminate(spec: GANSpec, params, stats, x, cond, train=True):
  """D on a batch of (unpacked) samples; cond is used by cgan only. Returns (heads, stats)."""
  out, stats = _apply(spec.discriminator, params, stats, pack(x, spec.pack), train,
                      cond if spec.aux == "cgan" else None)
  return _heads(spec, out), stats


def _init_net(module, tx, rng, *inputs):
  variables = module.init(rng, *inputs, train=False)
  params = variables["params"]
  return NetState(params, variables.get("batch_stats", {}), tx.init(params))


def init_state(spec: GANSpec, rng: jax.Array, data_shape: tuple[int, ...]) -> GANState:
  """Initial state for examples of `data_shape` (without the batch dimension)."""
  g_rng, d_rng = jax.random.split(rng)
  cond = (jnp.zeros((spec.pack, spec.cond_dim)),) if spec.cond_dim else ()
  g = _init_net(spec.generator, spec.g_tx, g_rng, jnp.zeros((spec.pack, spec.z_dim)), *cond)
  d_cond = cond if spec.aux == "cgan" else ()
  d = _init_net(spec.discriminator, spec.d_tx, d_rng, pack(jnp.zeros((spec.pack, *data_shape)), spec.pack), *d_cond)
  extra = {"k_t": jnp.zeros((), jnp.float32)} if spec.began else {}  # k_0 = 0 (Berthelot et al. 2017, sec. 3.3)
  return GANState(jnp.zeros((), jnp.int32), g, d, g.params if spec.ema_decay else None, extra)


def _shard(spec: GANSpec, x):
  return x if spec.batch_sharding is None else jax.lax.with_sharding_constraint(x, spec.batch_sharding)


def sample_inputs(spec: GANSpec, rng, batch_size, labels=None):
  """G's inputs: z ~ N(0, I), and conditioning with the targets of the auxiliary losses.

  cgan/acgan: labels (given, else uniform) as one-hot; infogan: a uniform categorical code (the given
  labels, if any) and continuous codes ~ U[-1, 1] (Chen et al. 2016, sec. 5).

  Returns:
    (z, cond or None, targets dict: 'label' or 'cat' and 'cont').
  """
  z = _shard(spec, jax.random.normal(rng, (batch_size, spec.z_dim)))
  c_rng, u_rng = jax.random.split(jax.random.fold_in(rng, 1))
  if spec.aux in ("cgan", "acgan", "infogan"):
    k = spec.info_codes[0] if spec.aux == "infogan" else spec.num_classes
    if labels is None:
      labels = jax.random.randint(c_rng, (batch_size,), 0, k)
    labels = _shard(spec, labels)
    cond = jax.nn.one_hot(labels, k, dtype=jnp.float32)
    if spec.aux != "infogan":
      return z, cond, {"label": labels}
    cont = _shard(spec, jax.random.uniform(u_rng, (batch_size, spec.info_codes[1]), jnp.float32, -1.0, 1.0))
    return z, jnp.concatenate([cond, cont], axis=-1), {"cat": labels, "cont": cont}
  return z, None, {}


def _aux_d_loss(spec: GANSpec, real_h, fake_h, real_labels, targets, labelled_h, labelled_y):
  """The discriminator's auxiliary terms (0 without aux) and their metrics."""
  if spec.aux == "acgan":  # Odena et al. 2017, eq. 3: D maximises L_C on real and fake.
    real_ce = losses.classification_loss(real_h["class_logits"], real_labels)
    fake_ce = losses.classification_loss(fake_h["class_logits"], targets["label"])
    return real_ce + fake_ce, {"class_loss_real": real_ce, "class_loss_fake": fake_ce}
  if spec.aux == "infogan":  # Chen et al. 2016, eq. 6: D and Q minimise -lambda L_I.
    mi = losses.infogan_mi_lower_bound(fake_h["q"], targets["cat"], targets["cont"])
    return -mi, {"mi_lower_bound": mi}
  if spec.aux == "sgan":  # Salimans et al. 2016, sec. 5: L_supervised on the labelled examples.
    ce = losses.classification_loss(labelled_h["class_logits"], labelled_y)
    return ce, {"supervised_loss": ce}
  return jnp.zeros((), jnp.float32), {}


def _d_update(spec: GANSpec, g: NetState, d: NetState, real, real_labels, rng, extra):
  z_rng, p_rng, l_rng = jax.random.split(rng, 3)
  z, cond, targets = sample_inputs(spec, z_rng, real.shape[0])
  labelled = None
  if spec.aux == "sgan":
    idx = jax.random.randint(l_rng, (spec.labelled_batch,), 0, spec.labelled[1].shape[0])
    labelled = (spec.labelled[0][idx], spec.labelled[1][idx])
  loss_kw = {"k": extra["k_t"]} if spec.began else {}

  def grad_fn(params, stats, inputs, p_rng):
    real, real_labels, z, cond, targets, labelled = inputs
    fake, _ = _apply(spec.generator, g.params, g.batch_stats, z, True, cond)
    fake = jax.lax.stop_gradient(fake)
    real_cond = jax.nn.one_hot(real_labels, spec.num_classes) if spec.aux == "cgan" else None

    def loss_fn(params):
      real_h, new_stats = discriminate(spec, params, stats, real, real_cond)
      fake_h, new_stats = discriminate(spec, params, new_stats, fake, cond)
      labelled_h = discriminate(spec, params, new_stats, labelled[0], None)[0] if labelled else None
      loss = spec.loss.d_loss(real_h["adv"], fake_h["adv"], **loss_kw)
      aux, aux_metrics = _aux_d_loss(spec, real_h, fake_h, real_labels, targets, labelled_h,
                                     labelled[1] if labelled else None)
      d_fn = lambda x: _heads(spec, _apply(spec.discriminator, params, new_stats, x, True, real_cond)[0])["adv"]
      penalty = spec.penalty(d_fn, pack(real, spec.pack), pack(fake, spec.pack), p_rng)
      metrics = {"d_loss": loss, "penalty": penalty, "d_real": real_h["adv"].mean(),
                 "d_fake": fake_h["adv"].mean(), **aux_metrics}
      return loss + spec.penalty_weight * penalty + spec.aux_weight * aux, (new_stats, metrics)

    grads, (stats, metrics) = jax.grad(loss_fn, has_aux=True)(params)
    return grads, stats, metrics

  grads, stats, metrics = optim.accumulate_gradients(
      grad_fn, d.params, d.batch_stats, (real, real_labels, z, cond, targets, labelled), spec.accum_steps, p_rng)
  updates, opt_state = spec.d_tx.update(grads, d.opt_state, d.params)
  params = optax.apply_updates(d.params, updates)
  if spec.weight_clip:
    params = penalties.clip_weights(params, spec.weight_clip)
  return NetState(params, stats, opt_state), metrics


def _g_update(spec: GANSpec, g: NetState, d: NetState, real, real_labels, rng):
  z, cond, targets = sample_inputs(spec, rng, real.shape[0])

  def grad_fn(params, stats, inputs, _):
    real, real_labels, z, cond, targets = inputs
    real_cond = jax.nn.one_hot(real_labels, spec.num_classes) if spec.aux == "cgan" else None

    def loss_fn(params):
      fake, new_stats = _apply(spec.generator, params, stats, z, True, cond)
      fake_h, _ = discriminate(spec, d.params, d.batch_stats, fake, cond)  # D's stats left as they are
      if spec.feature_matching:  # Salimans et al. 2016, sec. 3.1
        real_h, _ = discriminate(spec, d.params, d.batch_stats, real, real_cond)
        loss = losses.feature_matching(real_h["features"], fake_h["features"])
      else:
        loss = spec.loss.g_loss(fake_h["adv"])
      metrics = {"g_loss": loss}
      if spec.aux == "acgan":  # Odena et al. 2017, eq. 3: G also maximises L_C on its samples.
        aux = metrics["g_class_loss"] = losses.classification_loss(fake_h["class_logits"], targets["label"])
        loss = loss + spec.aux_weight * aux
      elif spec.aux == "infogan":  # Chen et al. 2016, eq. 6
        metrics["g_mi_lower_bound"] = losses.infogan_mi_lower_bound(fake_h["q"], targets["cat"], targets["cont"])
        loss = loss - spec.aux_weight * metrics["g_mi_lower_bound"]
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
  if spec.aux in ("cgan", "acgan"):
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
  d, metrics = _d_update(spec, state.g, state.d, real, label, d_rng, state.extra)
  return state.replace(d=d), metrics


def generator_update(spec: GANSpec, state: GANState, batch: dict, rng: jax.Array,
                     d_metrics: dict) -> tuple[GANState, dict]:
  """`train_step`'s G update after the D updates, then G's EMA and BEGAN's k_t; advances the step.
  `d_metrics` are the last D update's; returns them merged with G's."""
  rng = jax.random.fold_in(rng, state.step)
  reals, labels = _split_batch(spec, batch)
  g, g_metrics = _g_update(spec, state.g, state.d, reals[:, 0], labels[:, 0], jax.random.fold_in(rng, 1))
  g_ema = state.g_ema
  if spec.ema_decay:
    g_ema = optax.incremental_update(g.params, g_ema, 1.0 - spec.ema_decay)
  extra, metrics = state.extra, {**d_metrics, **g_metrics}
  if spec.began:  # Berthelot et al. 2017, eq. 4 and sec. 3.4.1, with L(x) of the D step, L(G(z_G)) of G's.
    gamma, lambda_k = spec.began
    l_real, l_fake = d_metrics["d_real"], g_metrics["g_loss"]
    extra = {"k_t": losses.began_k_update(extra["k_t"], l_real, l_fake, gamma, lambda_k)}
    metrics.update(k_t=extra["k_t"], convergence=losses.began_convergence(l_real, l_fake, gamma))
  return GANState(state.step + 1, g, state.d, g_ema, extra), metrics


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
      return jax.jit(self, **jit_kwargs)
    kw = dict(jit_kwargs)
    if "in_shardings" in kw:
      kw["in_shardings"] = (*kw["in_shardings"], kw["in_shardings"][2])
    return SplitStep(jax.jit(self.critic, **kw), jax.jit(self.generator, **kw), self.n_critic)

  def compile(self, state, batch, rng) -> "SplitStep":
    """For jitted parts: this step with the parts compiled for these arguments."""
    i = jnp.asarray(0, jnp.int32)
    critic = self.critic.lower(state, batch, rng, i).compile()
    d_metrics = jax.eval_shape(self.critic, state, batch, rng, i)[1]
    generator = self.generator.lower(state, batch, rng, d_metrics).compile()
    return SplitStep(critic, generator, self.n_critic)


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
  return _apply(spec.generator, params, state.g.batch_stats, z, False, cond)[0]
