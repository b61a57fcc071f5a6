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

Array = jax.Array


class GANLoss(NamedTuple):
  """A GAN objective: both players minimise their own term.

  Attributes:
    name: registry name, for logs.
    d_loss: `d_loss(real_out, fake_out) -> scalar`, minimised by the discriminator.
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


_REGISTRY: dict[str, Callable[..., GANLoss]] = {
    "minimax": lambda: GANLoss("minimax", _bce_d_loss, _minimax_g_loss),
    "nsgan": lambda: GANLoss("nsgan", _bce_d_loss, _nsgan_g_loss),
    "lsgan": lsgan,
    "wasserstein": lambda: GANLoss("wasserstein", _wasserstein_d_loss, _wasserstein_g_loss),
    # Same G term as WGAN: -E[D(G(z))] (Miyato et al. 2018 eq. 17).
    "hinge": lambda: GANLoss("hinge", _hinge_d_loss, _wasserstein_g_loss),
}
LOSS_NAMES = tuple(sorted(_REGISTRY))


def get_loss(name: str, **kwargs: float) -> GANLoss:
  """Returns the loss registered as `name`; kwargs go to its factory (only `lsgan` takes a, b, c).

  Raises:
    UserError: unknown name or keyword.
  """
  if name not in _REGISTRY:
    raise UserError(f"Unknown GAN loss {name!r}; known: {', '.join(LOSS_NAMES)}.")
  factory = _REGISTRY[name]
  allowed = set(inspect.signature(factory).parameters)
  unknown = sorted(set(kwargs) - allowed)
  if unknown:
    raise UserError(f"GAN loss {name!r} takes no option(s) {unknown}; it takes {sorted(allowed)}.")
  return factory(**kwargs)
