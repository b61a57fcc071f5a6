"""GAN losses as pure functions of discriminator outputs, chosen by name.

Every loss takes raw discriminator outputs (logits for the probabilistic losses, critic values for
`wasserstein` and `hinge`) of any shape, computes in float32 and averages over all elements, so a
`[B]`, `[B, 1]` or patch-shaped `[B, H, W, 1]` output all work. Log-probabilities are written with
softplus (log sigmoid(x) = -softplus(-x)), which stays finite with exact gradients for |x| >> 1.

`g_loss` takes only the fake outputs: none of these losses needs D(real) for the generator, and the
generator step then needs no discriminator pass over real data. (A relativistic loss would need a
second argument; add it then.)
"""

import inspect
from typing import Callable, NamedTuple

import jax
import jax.numpy as jnp

from gans.errors import UserError
from gans.registry import Registry

Array = jax.Array


class GANLoss(NamedTuple):
  """A GAN objective: both players minimise their own term.

  Attributes:
    name: registry name, for logs.
    d_loss: `d_loss(real_out, fake_out) -> scalar`, minimised by the discriminator (`began` also
      takes `k`, its equilibrium term).
    g_loss: `g_loss(fake_out) -> scalar`, minimised by the generator.
  """
  name: str
  d_loss: Callable[[Array, Array], Array]
  g_loss: Callable[[Array], Array]


def _mean(x: Array) -> Array:
  return jnp.mean(jnp.asarray(x, jnp.float32))


def _f32(x: Array) -> Array:
  return jnp.asarray(x, jnp.float32)


def _bce_d_loss(real_out: Array, fake_out: Array) -> Array:
  # -E[log D(x)] - E[log(1 - D(G(z)))], Goodfellow et al. 2014 eq. 1, with D = sigmoid(logit):
  # -log sigmoid(r) = softplus(-r), -log(1 - sigmoid(f)) = softplus(f).
  return _mean(jax.nn.softplus(-_f32(real_out))) + _mean(jax.nn.softplus(_f32(fake_out)))


def _minimax_g_loss(fake_out: Array) -> Array:
  # G minimises E[log(1 - D(G(z)))] = -E[softplus(f)] (Goodfellow et al. 2014 eq. 1); its gradient
  # -sigmoid(f) vanishes when D confidently rejects fakes (f -> -inf): the saturating loss.
  return -_mean(jax.nn.softplus(_f32(fake_out)))


def _nsgan_g_loss(fake_out: Array) -> Array:
  # G minimises -E[log D(G(z))] = E[softplus(-f)] (Goodfellow et al. 2014 sec. 3): non-saturating.
  return _mean(jax.nn.softplus(-_f32(fake_out)))


def _wasserstein_d_loss(real_out: Array, fake_out: Array) -> Array:
  # Critic maximises E[f(x)] - E[f(G(z))] (Arjovsky et al. 2017 Alg. 1 line 5).
  return _mean(fake_out) - _mean(real_out)


def _wasserstein_g_loss(fake_out: Array) -> Array:
  return -_mean(fake_out)  # Arjovsky et al. 2017 Alg. 1 line 10.


def _hinge_d_loss(real_out: Array, fake_out: Array) -> Array:
  # E[relu(1 - D(x))] + E[relu(1 + D(G(z)))] (Lim & Ye 2017; Miyato et al. 2018 eq. 16).
  return _mean(jax.nn.relu(1.0 - _f32(real_out))) + _mean(jax.nn.relu(1.0 + _f32(fake_out)))


def lsgan(a: float = 0.0, b: float = 1.0, c: float = 1.0) -> GANLoss:
  """Least-squares GAN (Mao et al. 2017 eq. 2), D outputs used as raw scores.

  D minimises 1/2 E[(D(x) - b)^2] + 1/2 E[(D(G(z)) - a)^2] and G minimises 1/2 E[(D(G(z)) - c)^2].
  The default 0-1 coding (a=0, b=1, c=1; Mao et al. 2017 eq. 9) is the one they train with; the
  alternative a=-1, b=1, c=0 (eq. 8) satisfies b - c = 1, b - a = 2, under which G minimises the
  Pearson chi^2 divergence; they report both perform similarly.

  Args:
    a: target for fake samples in the D loss.
    b: target for real samples in the D loss.
    c: value G wants D to assign to fake samples.
  """
  a, b, c = float(a), float(b), float(c)

  def d_loss(real_out: Array, fake_out: Array) -> Array:
    return 0.5 * _mean((_f32(real_out) - b) ** 2) + 0.5 * _mean((_f32(fake_out) - a) ** 2)

  def g_loss(fake_out: Array) -> Array:
    return 0.5 * _mean((_f32(fake_out) - c) ** 2)

  return GANLoss("lsgan", d_loss, g_loss)


def began(eta: float = 1.0) -> GANLoss:
  """BEGAN (Berthelot et al. 2017, eq. 4): D is an autoencoder whose output is the per-sample
  reconstruction loss L(v) = mean |v - D(v)|^eta; D minimises L(x) - k_t L(G(z_D)), G minimises
  L(G(z_G)). `d_loss` takes the equilibrium term `k` (k_t, kept in the GAN state).

  Args:
    eta: the norm exponent already applied by the discriminator (1: L1, the paper's choice); recorded
      for logs, the outputs passed here are L(v) themselves.
  """
  del eta

  def d_loss(real_out: Array, fake_out: Array, k: Array = 0.0) -> Array:
    return _mean(real_out) - jax.lax.stop_gradient(_f32(k)) * _mean(fake_out)

  return GANLoss("began", d_loss, _mean)


def began_k_update(k: Array, l_real: Array, l_fake: Array, gamma: float, lambda_k: float) -> Array:
  """k_{t+1} = clip(k_t + lambda_k (gamma L(x) - L(G(z_G))), 0, 1) (Berthelot et al. 2017, eq. 4)."""
  return jnp.clip(_f32(k) + lambda_k * (gamma * _f32(l_real) - _f32(l_fake)), 0.0, 1.0)


def began_convergence(l_real: Array, l_fake: Array, gamma: float) -> Array:
  """M_global = L(x) + |gamma L(x) - L(G(z_G))| (Berthelot et al. 2017, sec. 3.4.1)."""
  return _f32(l_real) + jnp.abs(gamma * _f32(l_real) - _f32(l_fake))


def classification_loss(logits: Array, labels: Array) -> Array:
  """Mean cross-entropy -log softmax(logits)[label]: the ACGAN class terms (Odena et al. 2017, eq. 3,
  L_C with a minus sign) and the supervised SGAN term (Salimans et al. 2016, sec. 5)."""
  logp = jax.nn.log_softmax(_f32(logits), axis=-1)
  return -jnp.mean(jnp.take_along_axis(logp, labels[:, None].astype(jnp.int32), axis=-1))


def k_plus_one_logit(class_logits: Array) -> Array:
  """The real/fake logit of a K+1-class discriminator whose fake logit is fixed at 0 (Salimans et
  al. 2016, sec. 5): D(x) = Z(x) / (Z(x) + 1) with Z = sum_k exp(l_k), so logit D(x) = logsumexp(l).
  Any probabilistic loss above then gives the unsupervised terms of their L_unsupervised."""
  return jax.nn.logsumexp(_f32(class_logits), axis=-1)


def feature_matching(real_features: Array, fake_features: Array) -> Array:
  """||E f(x) - E f(G(z))||_2^2 over an intermediate layer f of D (Salimans et al. 2016, sec. 3.1)."""
  real = _f32(real_features).reshape(real_features.shape[0], -1)
  fake = _f32(fake_features).reshape(fake_features.shape[0], -1)
  return jnp.sum(jnp.square(jnp.mean(real, axis=0) - jnp.mean(fake, axis=0)))


def infogan_mi_lower_bound(q_out: Array, categorical: Array, continuous: Array) -> Array:
  """L_I(G, Q) = E[log Q(c|x)] + H(c) (Chen et al. 2016, eq. 5 and sec. 5) for codes c = (one
  categorical code with K values, uniform; M continuous codes ~ U[-1, 1]).

  Q(c|x) factorises: a softmax over `q_out[:, :K]` for the categorical code and, as in the authors'
  code (fixed std), a unit-variance Gaussian with mean `q_out[:, K:]` per continuous code. H(c) =
  log K + M log 2 is constant, added so that the value is a lower bound on I(c; G(z, c)) in nats.

  Args:
    q_out: Q head output [B, K + M].
    categorical: the categorical code values [B] in [0, K).
    continuous: the continuous codes [B, M] (M may be 0).
  """
  num_cont = continuous.shape[-1]
  num_cat = q_out.shape[-1] - num_cont
  q = _f32(q_out)
  log_q = -classification_loss(q[:, :num_cat], categorical)
  entropy = jnp.log(float(num_cat))
  if num_cont:
    sq = jnp.square(_f32(continuous) - q[:, num_cat:])
    log_q += jnp.mean(jnp.sum(-0.5 * sq - 0.5 * jnp.log(2 * jnp.pi), axis=-1))
    entropy += num_cont * jnp.log(2.0)
  return log_q + entropy


LOSSES: Registry[Callable[..., GANLoss]] = Registry("GAN loss")  # name -> factory(**options) -> GANLoss
LOSSES.register("minimax", lambda: GANLoss("minimax", _bce_d_loss, _minimax_g_loss))
LOSSES.register("nsgan", lambda: GANLoss("nsgan", _bce_d_loss, _nsgan_g_loss))
LOSSES.register("lsgan", lsgan)
LOSSES.register("wasserstein", lambda: GANLoss("wasserstein", _wasserstein_d_loss, _wasserstein_g_loss))
# Same G term as WGAN: -E[D(G(z))] (Miyato et al. 2018 eq. 17).
LOSSES.register("hinge", lambda: GANLoss("hinge", _hinge_d_loss, _wasserstein_g_loss))
# Needs the autoencoder discriminator and k_t (gans.train.gan_tricks.BEGANEquilibrium).
LOSSES.register("began", began)


def get_loss(name: str, **kwargs: float) -> GANLoss:
  """Returns the loss registered as `name`; kwargs go to its factory (`lsgan` takes a, b, c; `began` eta).

  Raises:
    UserError: unknown name or keyword.
  """
  factory = LOSSES.get(name)
  allowed = set(inspect.signature(factory).parameters)
  unknown = sorted(set(kwargs) - allowed)
  if unknown:
    raise UserError(f"GAN loss {name!r} takes no option(s) {unknown}; it takes {sorted(allowed)}.")
  return factory(**kwargs)
