"""GAN generators and discriminators, one file per family, chosen by `config.model.name`."""
import jax.numpy as jnp

from gans.errors import UserError

ARCHITECTURES = ("began", "dcgan", "mlp")


def create(model_config, data_shape: tuple[int, ...], d_heads: dict | None = None):
  """Returns (generator, discriminator) for `model_config.name` and examples of `data_shape`.

  Args:
    model_config: `name` and the architecture's sizes (`g_width`, `d_width`, `g_hidden`, `d_hidden`,
      `d_batch_norm`, `spectral_norm`, `minibatch_kernels`, `minibatch_dim`, `h_dim`, `dtype`).
    data_shape: one example's shape.
    d_heads: discriminator heads beyond the adversarial one (`gans.models.gan.heads.outputs` arguments).
  """
  name = model_config.name
  dtype = jnp.dtype(model_config.get("dtype", "float32"))
  d_heads = dict(d_heads or {})
  if model_config.get("minibatch_kernels", 0):
    d_heads.update(minibatch_kernels=model_config.minibatch_kernels, minibatch_dim=model_config.get("minibatch_dim", 5))
  sn = bool(model_config.get("spectral_norm", False))
  if name == "dcgan":
    from gans.models.gan import dcgan  # pylint: disable=g-import-not-at-top
    if len(data_shape) != 3 or data_shape[0] != data_shape[1]:
      raise UserError(f"dcgan needs square images [S, S, C], got data of shape {data_shape}")
    return (dcgan.Generator(image_size=data_shape[0], channels=data_shape[2], width=model_config.g_width,
                            dtype=dtype),
            dcgan.Discriminator(width=model_config.d_width, batch_norm=model_config.get("d_batch_norm", True) and not sn,
                                dtype=dtype, spectral_norm=sn, heads=d_heads))
  if name == "mlp":
    from gans.models.gan import mlp  # pylint: disable=g-import-not-at-top
    return (mlp.Generator(out_shape=data_shape, hidden=tuple(model_config.g_hidden),
                          tanh_output=len(data_shape) > 1, dtype=dtype),
            mlp.Discriminator(hidden=tuple(model_config.d_hidden), dtype=dtype, spectral_norm=sn, heads=d_heads))
  if name == "began":
    from gans.models.gan import began  # pylint: disable=g-import-not-at-top
    if d_heads:
      raise UserError(f"began's autoencoder discriminator has no extra heads; got {sorted(d_heads)}")
    if len(data_shape) == 3 and data_shape[0] != data_shape[1]:
      raise UserError(f"began needs square images [S, S, C] or flat data, got data of shape {data_shape}")
    return (began.Generator(out_shape=data_shape, width=model_config.g_width, hidden=tuple(model_config.g_hidden),
                            dtype=dtype),
            began.Discriminator(h_dim=model_config.get("h_dim", 64), width=model_config.d_width,
                                hidden=tuple(model_config.d_hidden), dtype=dtype))
  raise UserError(f"unknown GAN architecture {name!r}; known: {', '.join(ARCHITECTURES)}")
