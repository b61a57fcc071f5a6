"""GAN generators and discriminators, one file per family, chosen by `config.model.name`."""
import jax.numpy as jnp

from gans.errors import UserError

ARCHITECTURES = ("dcgan", "mlp")


def create(model_config, data_shape: tuple[int, ...]):
  """Returns (generator, discriminator) for `model_config.name` and examples of `data_shape`."""
  name = model_config.name
  dtype = jnp.dtype(model_config.get("dtype", "float32"))
  if name == "dcgan":
    from gans.models.gan import dcgan  # pylint: disable=g-import-not-at-top
    if len(data_shape) != 3 or data_shape[0] != data_shape[1]:
      raise UserError(f"dcgan needs square images [S, S, C], got data of shape {data_shape}")
    return (dcgan.Generator(image_size=data_shape[0], channels=data_shape[2], width=model_config.g_width,
                            dtype=dtype),
            dcgan.Discriminator(width=model_config.d_width, batch_norm=model_config.get("d_batch_norm", True),
                                dtype=dtype))
  if name == "mlp":
    from gans.models.gan import mlp  # pylint: disable=g-import-not-at-top
    return (mlp.Generator(out_shape=data_shape, hidden=tuple(model_config.g_hidden),
                          tanh_output=len(data_shape) > 1, dtype=dtype),
            mlp.Discriminator(hidden=tuple(model_config.d_hidden), dtype=dtype))
  raise UserError(f"unknown GAN architecture {name!r}; known: {', '.join(ARCHITECTURES)}")
