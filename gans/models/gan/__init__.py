"""GAN generators and discriminators, one file per family, chosen by `config.model.name`.

A family file registers a builder `build(model_config, data_shape, d_heads) -> (generator, discriminator)`
with `@ARCHITECTURES.register(name)`:
  model_config: `name` and the architecture's own sizes (e.g. `g_width`, `d_width`, `spectral_norm`, `dtype`).
  data_shape: one example's shape, without the batch axis.
  d_heads: discriminator heads beyond the adversarial one (`gans.models.gan.heads.outputs` arguments),
    as the GAN variant asks for them; minibatch discrimination is added here from the model config.
"""
import jax.numpy as jnp

from gans.registry import Registry

ARCHITECTURES = Registry("GAN architecture", packages=("gans.models.gan",))


def create(model_config, data_shape: tuple[int, ...], d_heads: dict | None = None):
  """Returns (generator, discriminator) for `model_config.name` and examples of `data_shape`."""
  build = ARCHITECTURES.get(model_config.name)
  d_heads = dict(d_heads or {})
  if model_config.get("minibatch_kernels", 0):
    d_heads.update(minibatch_kernels=model_config.minibatch_kernels, minibatch_dim=model_config.get("minibatch_dim", 5))
  return build(model_config, tuple(data_shape), d_heads)


def dtype(model_config):
  """The compute dtype a model config names (float32 by default)."""
  return jnp.dtype(model_config.get("dtype", "float32"))
