"""Optimizers and learning-rate schedules from config, built with optax."""
import optax
from ml_collections import ConfigDict

from gans.errors import UserError


def schedule(cfg: ConfigDict, total_steps: int) -> optax.Schedule:
  """`constant`, `cosine` (with `warmup_steps`) or `step` (x `decay_factor` at each of `boundaries`)."""
  kind = cfg.get("schedule", "constant")
  lr, warmup = cfg.learning_rate, cfg.get("warmup_steps", 0)
  if kind == "constant":
    main = optax.constant_schedule(lr)
  elif kind == "cosine":
    main = optax.cosine_decay_schedule(lr, max(total_steps - warmup, 1))
  elif kind == "step":
    main = optax.piecewise_constant_schedule(
        lr, {int(b * total_steps if b < 1 else b) - warmup: cfg.get("decay_factor", 0.1)
             for b in cfg.boundaries})
  else:
    raise UserError(f"unknown schedule {kind!r}; known: constant, cosine, step")
  if warmup:
    return optax.join_schedules([optax.linear_schedule(0.0, lr, warmup), main], [warmup])
  return main


def make(cfg: ConfigDict, total_steps: int, mask=None) -> optax.GradientTransformation:
  """Builds `cfg.name` in {adam, adamw, rmsprop, sgd} (sgd: `momentum`, `nesterov`).

  `mask` (a pytree of bools like the params, or a function of the params to one) limits weight
  decay (adamw, sgd) to the True leaves; None decays every parameter.
  """
  lr = schedule(cfg, total_steps)
  name = cfg.name
  if name == "adam":
    return optax.adam(lr, b1=cfg.get("b1", 0.9), b2=cfg.get("b2", 0.999), eps=cfg.get("eps", 1e-8))
  if name == "adamw":
    return optax.adamw(lr, b1=cfg.get("b1", 0.9), b2=cfg.get("b2", 0.999),
                       weight_decay=cfg.get("weight_decay", 1e-4), mask=mask)
  if name == "rmsprop":  # WGAN uses RMSProp (Arjovsky et al. 2017, sec. 3)
    return optax.rmsprop(lr, decay=cfg.get("decay", 0.9), eps=cfg.get("eps", 1e-8))
  if name == "sgd":
    tx = optax.sgd(lr, momentum=cfg.get("momentum", 0.9) or None, nesterov=cfg.get("nesterov", False))
    wd = cfg.get("weight_decay", 0.0)
    return optax.chain(optax.add_decayed_weights(wd, mask), tx) if wd else tx
  raise UserError(f"unknown optimizer {name!r}; known: adam, adamw, rmsprop, sgd")
