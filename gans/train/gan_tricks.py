"""GAN tricks: pieces that change a step without changing its variant, each turned on by a config option.

| trick | config option | paper |
|---|---|---|
| feature_matching | `feature_matching` | Salimans et al. 2016, sec. 3.1 |
| historical_averaging | `historical_averaging` (its weight) | Salimans et al. 2016, sec. 3.3 |
| label_smoothing | `label_smoothing` (alpha) | Salimans et al. 2016, sec. 3.4 (one-sided) |
| virtual_batch_norm | `virtual_batch_norm` (reference size) | Salimans et al. 2016, sec. 3.4 |
| pack | `pack` (m) | Lin et al. 2018 (PacGAN) |
| weight_clip | `weight_clip` (c) | Arjovsky et al. 2017, Alg. 1 |
| began_equilibrium | `loss = "began"` | Berthelot et al. 2017, eq. 4 |
| orthogonal_regularization | `ortho_reg` (beta) | Brock et al. 2019, sec. 3.1 |
| diffaugment | `diffaugment` (policy, e.g. "color,translation,cutout") | Zhao et al. 2020, sec. 3 |
"""
import jax
import jax.numpy as jnp

from gans import diffaugment, losses, penalties, regularizers
from gans.errors import UserError
from gans.train.gan_parts import TRICKS, DTerms, GANPart, GTerms


@TRICKS.register("feature_matching")
class FeatureMatching(GANPart):
  """G minimises ||E f(x) - E f(G(z))||^2 over D's last features instead of the adversarial loss."""

  @classmethod
  def from_config(cls, config, data):
    return cls() if config.get("feature_matching", False) else None

  def d_heads(self):
    return {"features": True}

  def g_loss(self, t: GTerms):
    return losses.feature_matching(t.discriminate(t.real, t.real_cond)["features"], t.fake_heads["features"])


def _squared_distance(tree, other) -> jax.Array:
  return sum(jnp.sum(jnp.square(a - b)) for a, b in zip(jax.tree.leaves(tree), jax.tree.leaves(other)))


@TRICKS.register("historical_averaging")
class HistoricalAveraging(GANPart):
  """Each player's cost gets weight * ||theta - (1/t) sum_i theta[i]||^2 (sec. 3.3). The running mean of
  each player's parameters over every step so far (the initial ones included) is kept in the state as
  `extra['historical_average']`, updated once per step after both players' updates."""

  def __init__(self, weight: float):
    self.weight = weight

  @classmethod
  def from_config(cls, config, data):
    weight = config.get("historical_averaging", 0.0)
    if weight < 0:
      raise UserError(f"historical_averaging must be a weight >= 0, got {weight}")
    return cls(weight) if weight else None

  def init_extra(self, rng, g_params, d_params, spec):
    # copies: the state must not hold one buffer twice (a donated state would donate it twice)
    return {"historical_average": jax.tree.map(jnp.copy, {"g": g_params, "d": d_params})}

  def d_terms(self, t: DTerms):
    distance = _squared_distance(t.params, t.extra["historical_average"]["d"])
    return self.weight * distance, {"d_historical_distance": distance}

  def g_terms(self, t: GTerms):
    distance = _squared_distance(t.params, t.extra["historical_average"]["g"])
    return self.weight * distance, {"g_historical_distance": distance}

  def after_step(self, state, d_metrics, g_metrics):
    count = (state.step + 2).astype(jnp.float32)  # theta_0 .. theta_{step+1}
    average = state.extra["historical_average"]
    update = lambda mean, new: mean + (new - mean) / count
    return {"historical_average": {"g": jax.tree.map(update, average["g"], state.g.params),
                                   "d": jax.tree.map(update, average["d"], state.d.params)}}, {}


@TRICKS.register("label_smoothing")
class LabelSmoothing(GANPart):
  """One-sided label smoothing (sec. 3.4): D's targets for real examples are 1 - alpha, for fakes still 0.

  For D's cross-entropy on a real logit r, (1 - alpha) softplus(-r) + alpha softplus(r) = softplus(-r) +
  alpha r, so the smoothed loss is the GAN loss plus alpha * E[r].
  """

  def __init__(self, alpha: float):
    self.alpha = alpha

  @classmethod
  def from_config(cls, config, data):
    alpha = config.get("label_smoothing", 0.0)
    if not alpha:
      return None
    if not 0 < alpha < 1:
      raise UserError(f"label_smoothing must be in [0, 1), got {alpha}")
    if config.loss not in ("nsgan", "minimax"):
      raise UserError(f"label_smoothing smooths the cross-entropy of nsgan and minimax; loss is {config.loss}")
    return cls(alpha)

  def d_terms(self, t: DTerms):
    return self.alpha * jnp.mean(t.real_heads["adv"].astype(jnp.float32)), {}


@TRICKS.register("virtual_batch_norm")
class VirtualBatchNormReference(GANPart):
  """Virtual batch normalisation in G (sec. 3.4): a reference batch of G's inputs, drawn once at the start
  and kept in the state (`extra['vbn_reference']`), is put before every batch G sees; its statistics
  normalise every example (`gans.models.layers.VirtualBatchNorm`); its outputs are dropped."""

  def __init__(self, size: int):
    self.size = size

  @classmethod
  def from_config(cls, config, data):
    size = config.get("virtual_batch_norm", 0)
    if not size:
      return None
    if not isinstance(size, int) or size < 1:
      raise UserError(f"virtual_batch_norm must be a reference batch size >= 1, got {size!r}")
    if config.model.name != "dcgan":
      raise UserError(f"virtual_batch_norm is built into the dcgan generator; model is {config.model.name}")
    return cls(size)

  def model_options(self):
    return {"g_virtual_batch": self.size}

  def init_extra(self, rng, g_params, d_params, spec):
    z_rng, c_rng = jax.random.split(rng)
    cond, _ = spec.variant.sample_cond(c_rng, self.size, None, lambda x: x)
    return {"vbn_reference": {"z": jax.random.normal(z_rng, (self.size, spec.z_dim)), "cond": cond}}

  def generator_call(self, apply, z, cond, extra):
    ref = extra["vbn_reference"]
    z = jnp.concatenate([ref["z"].astype(z.dtype), z])
    if cond is not None:
      cond = jnp.concatenate([ref["cond"].astype(cond.dtype), cond])
    images, stats = apply(z, cond)
    return images[self.size:], stats


def pack(x: jax.Array, m: int) -> jax.Array:
  """PacGAN packing (Lin et al. 2018, sec. 3): [B, ..., C] -> [B/m, ..., m*C]; pack j holds samples
  j*m .. j*m+m-1, sample j*m+i in channels i*C .. (i+1)*C-1 (for flat data C is the feature axis)."""
  if m == 1:
    return x
  b, rest = x.shape[0], x.shape[1:]
  x = x.reshape(b // m, m, *rest)
  x = jnp.moveaxis(x, 1, -2)  # [B/m, ..., m, C]
  return x.reshape(b // m, *rest[:-1], m * rest[-1])


@TRICKS.register("pack")
class Pack(GANPart):
  """D sees m samples at once, concatenated on the channel (or feature) axis."""

  def __init__(self, m: int):
    self.batch_multiple = m

  @classmethod
  def from_config(cls, config, data):
    m = config.get("pack", 1)
    if m < 1 or config.batch_size % m:
      raise UserError(f"pack must be >= 1 and divide batch_size={config.batch_size}, got {m}")
    if m > 1 and config.get("variant", "unconditional") != "unconditional":
      raise UserError(f"pack > 1 works with the unconditional variant only, got variant={config.variant}")
    return cls(m) if m > 1 else None

  def d_input(self, x):
    return pack(x, self.batch_multiple)


@TRICKS.register("weight_clip")
class WeightClip(GANPart):
  """The critic's weights are clipped to [-c, c] after each of its updates (WGAN)."""

  def __init__(self, c: float):
    self.c = c

  @classmethod
  def from_config(cls, config, data):
    c = config.get("weight_clip", 0.0)
    return cls(c) if c else None

  def after_d_update(self, params):
    return penalties.clip_weights(params, self.c)


@TRICKS.register("began_equilibrium")
class BEGANEquilibrium(GANPart):
  """BEGAN's k_t (Berthelot et al. 2017, eq. 4): D's loss L(x) - k_t L(G(z_D)), k_0 = 0 (sec. 3.3), and
  k_{t+1} = clip(k_t + lambda_k (gamma L(x) - L(G(z_G))), 0, 1) after each step, with L(x) of the D
  update and L(G(z_G)) of G's; logs k_t and the convergence measure (sec. 3.4.1)."""

  def __init__(self, gamma: float, lambda_k: float):
    self.gamma, self.lambda_k = gamma, lambda_k

  @classmethod
  def from_config(cls, config, data):
    if (config.loss == "began") != (config.model.name == "began"):
      raise UserError("the began loss and the began model (autoencoder discriminator) go together")
    return cls(config.began.gamma, config.began.lambda_k) if config.loss == "began" else None

  def init_extra(self, rng, g_params, d_params, spec):
    return {"k_t": jnp.zeros((), jnp.float32)}

  def d_loss_kwargs(self, extra):
    return {"k": extra["k_t"]}

  def after_step(self, state, d_metrics, g_metrics):
    l_real, l_fake = d_metrics["d_real"], g_metrics["g_loss"]
    k = losses.began_k_update(state.extra["k_t"], l_real, l_fake, self.gamma, self.lambda_k)
    return {"k_t": k}, {"k_t": k, "convergence": losses.began_convergence(l_real, l_fake, self.gamma)}


@TRICKS.register("orthogonal_regularization")
class OrthogonalRegularization(GANPart):
  """G's loss gets beta * sum_W ||W^T W (1 - I)||_F^2 over its weight matrices (Brock et al. 2019, sec. 3.1;
  `gans.regularizers`), G only and without the shared class embedding, as BigGAN-PyTorch."""

  exclude = ("shared",)

  def __init__(self, beta: float):
    self.beta = beta

  @classmethod
  def from_config(cls, config, data):
    beta = config.get("ortho_reg", 0.0)
    if beta < 0:
      raise UserError(f"ortho_reg must be a weight beta >= 0, got {beta}")
    return cls(beta) if beta else None

  def g_terms(self, t: GTerms):
    penalty = regularizers.orthogonal_regularization(t.params, 1.0, self.exclude)
    return self.beta * penalty, {"g_ortho": penalty}


@TRICKS.register("diffaugment")
class DiffAugment(GANPart):
  """D sees T(x) for real and T(G(z)) for generated images, in D's and G's updates, with the same policy and a
  fresh draw per batch (Zhao et al. 2020, sec. 3); T is differentiable, so G's gradient flows through it."""

  def __init__(self, policy: str):
    self.policy = ",".join(diffaugment.parse_policy(policy))

  @classmethod
  def from_config(cls, config, data):
    policy = config.get("diffaugment", "")
    if not policy:
      return None
    if len(data.shape) != 3:
      raise UserError(f"diffaugment augments images [H, W, C]; {config.dataset} examples have shape {data.shape}")
    return cls(policy)

  def augment(self, x, rng):
    return diffaugment.diff_augment(x, rng, self.policy)
