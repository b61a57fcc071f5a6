"""Parameter and BatchNorm-statistic counts of a classifier, from shapes only (jax.eval_shape)."""
import jax
import jax.numpy as jnp
import numpy as np

from gans.models import classifiers


def count(tree) -> int:
  """Total number of elements in a pytree of arrays or shapes."""
  return int(sum(np.prod(x.shape) for x in jax.tree.leaves(tree)))


def summarize(name: str, num_classes: int = 1000, image_size: int = 224, channels: int = 3,
              small_inputs: bool = False) -> dict:
  """{'model', 'params', 'batch_stats', 'input_shape', 'output_shape'} for classifier `name`."""
  model = classifiers.create(name, num_classes=num_classes, small_inputs=small_inputs)
  x = jax.ShapeDtypeStruct((1, image_size, image_size, channels), jnp.float32)
  variables = jax.eval_shape(lambda x: model.init(jax.random.key(0), x, train=False), x)
  out = jax.eval_shape(lambda v, x: model.apply(v, x, train=False), variables, x)
  out = out[0] if isinstance(out, (tuple, list)) else out
  return {"model": name, "params": count(variables.get("params", {})),
          "batch_stats": count(variables.get("batch_stats", {})),
          "input_shape": list(x.shape), "output_shape": list(out.shape)}
