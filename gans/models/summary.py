"""Parameter counts of every model, from shapes only (jax.eval_shape): nothing is allocated.

Classifiers: `summarize(name, ...)` gives params, BatchNorm statistics and the input/output shapes.
Other families (GANs, translation, super-resolution) register a counter with `@FAMILIES.register(name)`:
`fn(image_size, channels, num_classes, **args) -> dict` of counts by network ('generator', 'discriminator',
...), whose `args` are the reference implementation's own option names with its defaults. Spectral-norm
vectors and BatchNorm statistics are not parameters.
"""
import jax
import jax.numpy as jnp
import numpy as np

from gans.errors import UserError
from gans.models import classifiers
from gans.registry import Registry

FAMILIES = Registry("model", packages=("gans.models.gan", "gans.models.sr", "gans.models.translation",
                                       "gans.models.style_transfer"))


def count(tree) -> int:
  """Total number of elements in a pytree of arrays or shapes."""
  return int(sum(np.prod(x.shape) for x in jax.tree.leaves(tree)))


def param_count(module, *inputs, **kwargs) -> int:
  """Parameters of `module` initialised on `inputs` (arrays or ShapeDtypeStructs), from shapes only."""
  variables = jax.eval_shape(lambda *x: module.init(jax.random.key(0), *x, **kwargs), *inputs)
  return count(variables.get("params", {}))


def names() -> list[str]:
  """Every model `summarize` knows: classifiers and the registered families."""
  return sorted(set(classifiers.names()) | set(FAMILIES.names()))


def summarize(name: str, num_classes: int = 1000, image_size: int = 224, channels: int = 3,
              small_inputs: bool = False, args: dict | None = None) -> dict:
  """{'model', 'params', 'batch_stats', 'input_shape', 'output_shape'} for classifier `name`; for a
  registered family {'model', 'generator', 'discriminator', ...} with `args` as its options."""
  if image_size < 1 or channels < 1 or num_classes < 0:
    raise UserError(f"image_size and channels must be positive and num_classes >= 0, got {image_size}, "
                    f"{channels}, {num_classes}")
  if name in FAMILIES:
    counter = FAMILIES.get(name)
    try:
      return {"model": name, **counter(image_size=image_size, channels=channels, num_classes=num_classes,
                                       **(args or {}))}
    except TypeError as e:  # an option the family does not take
      raise UserError(f"model {name!r}: {e}") from None
  if name not in classifiers.names():
    raise UserError(f"unknown model {name!r}; known: {', '.join(names())}")
  model = classifiers.create(name, num_classes=num_classes, small_inputs=small_inputs, **(args or {}))
  x = jax.ShapeDtypeStruct((1, image_size, image_size, channels), jnp.float32)
  try:
    variables = jax.eval_shape(lambda x: model.init(jax.random.key(0), x, train=False), x)
    out = jax.eval_shape(lambda v, x: model.apply(v, x, train=False), variables, x)
  except (ValueError, ZeroDivisionError, TypeError) as e:  # an input too small for the network's strides
    raise UserError(f"model {name!r} cannot take {image_size}x{image_size}x{channels} inputs: "
                    f"{str(e).splitlines()[0][:200]}") from None
  out = out[0] if isinstance(out, (tuple, list)) else out
  return {"model": name, "params": count(variables.get("params", {})),
          "batch_stats": count(variables.get("batch_stats", {})),
          "input_shape": list(x.shape), "output_shape": list(out.shape)}
