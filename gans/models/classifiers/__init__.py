"""Image classifiers, one file per family, chosen by name.

Each family module registers its constructors with `@register("name")`; `create(name, ...)` builds one.
Every constructor takes `num_classes` and `small_inputs` (a stem for 28x28 / 32x32 images) and
returns a Flax linen module called as `model.apply(variables, x, train=...)` on NHWC images.
"""
from typing import Callable

import jax.numpy as jnp

from gans.errors import UserError
from gans.registry import Registry

MODELS: Registry[Callable] = Registry("model", packages=(__name__,))
register = MODELS.register  # decorator: a constructor `fn(num_classes=..., small_inputs=..., **kw) -> nn.Module`


def names() -> list[str]:
  """All registered classifier names, sorted."""
  return MODELS.names()


def create(name: str, num_classes: int = 1000, small_inputs: bool = False, **kwargs):
  """Builds the classifier `name`; an unknown name is a UserError listing the known ones."""
  return MODELS.get(name)(num_classes=num_classes, small_inputs=small_inputs, **kwargs)


def from_config(model_config, num_classes: int):
  """The classifier `model_config.name`, given the other keys as keyword arguments (`dtype` by name)."""
  kwargs = dict(model_config.to_dict() if hasattr(model_config, "to_dict") else model_config)
  name = kwargs.pop("name")
  if "dtype" in kwargs:
    try:
      kwargs["dtype"] = jnp.dtype(kwargs["dtype"])
    except TypeError:
      raise UserError(f"model.dtype: unknown dtype {kwargs['dtype']!r}; e.g. float32, bfloat16") from None
  try:
    return create(name, num_classes, **kwargs)
  except TypeError as e:  # an argument the constructor does not take
    raise UserError(f"model {name!r}: {e}") from None
