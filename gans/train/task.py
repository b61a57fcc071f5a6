"""The Task protocol: what the train loop, the benchmark and the launchers know of a training family.

A task file (`gan_task.py`, `classifier_task.py`, ...) defines one class registered here by name and chosen
by `config.task`. The loop never asks which task it runs: it calls `init`, `step.jit(...)`, `evaluate`; the
launchers call `sample` or `translate` where a task has them (`isinstance(task, Sampler)`, `Translator`).

A task with several networks keeps them as named entries of one state pytree (arrays only); the models,
optimizers and anything else the pure step closes over live in the task, not in the state.
"""
import dataclasses
from typing import Any, Callable, Protocol, runtime_checkable

import jax
import numpy as np
from ml_collections import ConfigDict

from gans.data.pipeline import DataSpec
from gans.registry import Registry

TASKS = Registry("task", packages=("gans.train",))  # name -> class(config, data, mesh)


class JittedStep(Protocol):
  """A jitted train step `(state, batch, rng) -> (state, metrics)`."""

  def __call__(self, state, batch, rng) -> tuple[Any, dict]: ...

  def compile(self, state, batch, rng) -> tuple[Callable, float]:
    """The step compiled ahead of time for these arguments, and XLA's FLOP count of one call."""


class Step(Protocol):
  """A pure train step `(state, batch, rng) -> (state, metrics)` that knows how to jit itself."""

  def __call__(self, state, batch, rng) -> tuple[Any, dict]: ...

  def jit(self, **jit_kwargs) -> JittedStep:
    """The step under `jax.jit` with these keyword arguments (shardings, donation, compiler options)."""


class Task(Protocol):
  """A training family: builds its models from a config, initialises, steps and evaluates."""

  examples_per_step: int  # the global batch one step reads

  def __init__(self, config: ConfigDict, data: DataSpec, mesh: jax.sharding.Mesh): ...

  def init(self, rng: jax.Array) -> Any:
    """The initial state (a pytree of arrays)."""

  @property
  def step(self) -> Step:
    """The pure train step."""

  def evaluate(self, state, step: int, workdir: str) -> dict:
    """Evaluation metrics at `step` (and pictures written to `workdir`)."""


@runtime_checkable
class Sampler(Protocol):
  """A task that generates: `launch.sample` and the sample-quality metrics use it."""

  conditional: bool  # samples can be drawn for given labels
  num_labels: int
  class_labels: int  # > 0: the labels are the dataset's classes, so a classifier can score conditional samples

  def sample(self, state, num: int, seed: int, batch_size: int = 500, labels=None) -> np.ndarray:
    """`num` samples as float32 numpy (images in [-1, 1])."""


class Unconditional:
  """The `Sampler` attributes of a generator that takes no labels (a base of such tasks)."""
  conditional = False
  num_labels = class_labels = 0


@runtime_checkable
class Translator(Protocol):
  """A task whose trained network maps an image to an image (translation, colourisation, inpainting,
  super-resolution, fast style transfer): `launch.translate` uses it."""

  def translate(self, state, image: np.ndarray) -> np.ndarray:
    """One uint8 image [H, W, C] (any size the network accepts) -> the network's uint8 output image; a
    UserError for an image it cannot take (channels, size)."""


def flops(compiled) -> float:
  """XLA's FLOP count of one call of a compiled function (0 when the backend gives none)."""
  cost = compiled.cost_analysis()
  cost = cost[0] if isinstance(cost, (list, tuple)) else cost
  return float((cost or {}).get("flops", 0.0))


@dataclasses.dataclass(frozen=True)
class WholeStep:
  """A step function jitted as one computation."""
  fn: Callable

  @property
  def __name__(self):  # what jax.jit names the compiled step (profiles, compilation cache)
    return "train_step"

  def __call__(self, state, batch, rng):
    return self.fn(state, batch, rng)

  def jit(self, **jit_kwargs) -> "_Jitted":
    return _Jitted(jax.jit(self, **jit_kwargs))


@dataclasses.dataclass(frozen=True)
class _Jitted:
  fn: Callable

  def __call__(self, state, batch, rng):
    return self.fn(state, batch, rng)

  def compile(self, state, batch, rng) -> tuple[Callable, float]:
    compiled = self.fn.lower(state, batch, rng).compile()
    return compiled, flops(compiled)
