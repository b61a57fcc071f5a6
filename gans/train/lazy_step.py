"""A train step with lazy extra updates: regularisers run as their own jitted functions every k steps.

StyleGAN2's lazy regularisation (Karras et al. 2020, sec. 3.1) evaluates R1 and the path-length penalty
less often than the main losses, as separate optimisation steps. `LazyStep` runs each extra update when the
state's step (before the main update) is a multiple of its interval, so which updates run is a pure function
of the state: a run resumed from a checkpoint repeats an uninterrupted run exactly.
"""
import dataclasses
from typing import Callable

import jax
import optax
from ml_collections import ConfigDict

from gans.train import optim
from gans.train.task import flops


@dataclasses.dataclass(frozen=True)
class LazyUpdate:
  """`fn(state, batch, rng) -> (state, metrics)`, run on the steps that are multiples of `interval`."""
  name: str
  interval: int
  fn: Callable


@dataclasses.dataclass(frozen=True)
class LazyStep:
  """`(state, batch, rng) -> (state, metrics)`: the due lazy updates (in order), then `main`, which advances
  `state.step`. Reads the step from the state on the host, so each call synchronises once."""
  main: Callable
  lazy: tuple[LazyUpdate, ...] = ()
  __name__ = "train_step"  # what jax.jit names the compiled step

  def due(self, step: int) -> tuple[LazyUpdate, ...]:
    return tuple(u for u in self.lazy if u.interval > 0 and step % u.interval == 0)

  def __call__(self, state, batch, rng):
    metrics = {}
    for update in self.due(int(jax.device_get(state.step))):
      state, update_metrics = update.fn(state, batch, rng)
      metrics.update(update_metrics)
    state, main_metrics = self.main(state, batch, rng)
    return state, {**main_metrics, **metrics}

  def jit(self, **jit_kwargs) -> "LazyStep":
    """Every function under `jax.jit` with the same keyword arguments (all have the main step's signature)."""
    return LazyStep(jax.jit(self.main, **jit_kwargs),
                    tuple(dataclasses.replace(u, fn=jax.jit(u.fn, **jit_kwargs)) for u in self.lazy))

  def compile(self, state, batch, rng) -> tuple["LazyStep", float]:
    """For a jitted step: every function compiled for these arguments, and the FLOPs of an average step
    (main plus each lazy update divided by its interval)."""
    main = self.main.lower(state, batch, rng).compile()
    total = flops(main)
    lazy = []
    for u in self.lazy:
      compiled = u.fn.lower(state, batch, rng).compile()
      total += flops(compiled) / max(u.interval, 1)
      lazy.append(dataclasses.replace(u, fn=compiled))
    return LazyStep(main, tuple(lazy)), total


def lazy_adam(cfg: ConfigDict, total_steps: int, interval: int) -> optax.GradientTransformation:
  """The optimizer `cfg` (Adam) for a network also updated by a lazy regulariser every `interval` steps:
  learning rate x c and betas ^ c with c = interval / (interval + 1) (Karras et al. 2020, app. B), so the
  extra updates keep the optimizer's effective speed and memory. interval 0: `cfg` unchanged."""
  if interval <= 0:
    return optim.make(cfg, total_steps)
  c = interval / (interval + 1)
  cfg = ConfigDict(cfg.to_dict())
  cfg.learning_rate = cfg.learning_rate * c
  cfg.b1 = cfg.get("b1", 0.9) ** c
  cfg.b2 = cfg.get("b2", 0.999) ** c
  return optim.make(cfg, total_steps + total_steps // interval)
