"""Image classifiers, one file per family, chosen by name.

Each family module registers its constructors with `@register("name")`; `create(name, ...)` builds one.
Every constructor takes `num_classes` and `small_inputs` (a stem for 28x28 / 32x32 images) and
returns a Flax linen module called as `model.apply(variables, x, train=...)` on NHWC images.
"""
import importlib
import pkgutil
from typing import Callable

from gans.errors import UserError

_REGISTRY: dict[str, Callable] = {}
_loaded = False


def register(name: str):
  """Decorator: registers a constructor `fn(num_classes=..., small_inputs=..., **kw) -> nn.Module`."""
  def wrap(fn):
    if name in _REGISTRY:
      raise ValueError(f"classifier {name!r} registered twice")
    _REGISTRY[name] = fn
    return fn
  return wrap


def _load_all():
  global _loaded
  if not _loaded:
    for info in pkgutil.iter_modules(__path__):
      importlib.import_module(f"{__name__}.{info.name}")
    _loaded = True


def names() -> list[str]:
  """All registered classifier names, sorted."""
  _load_all()
  return sorted(_REGISTRY)


def create(name: str, num_classes: int = 1000, small_inputs: bool = False, **kwargs):
  """Builds the classifier `name`; an unknown name is a UserError listing the known ones."""
  _load_all()
  if name not in _REGISTRY:
    raise UserError(f"unknown model {name!r}; known models: {', '.join(sorted(_REGISTRY))}")
  return _REGISTRY[name](num_classes=num_classes, small_inputs=small_inputs, **kwargs)
