"""bf16 compute with fp32 parameters: a DCGAN step stays close to the fp32 step."""
import functools

import jax
import jax.numpy as jnp
import numpy as np
import optax

from gans import losses
from gans.models.gan import dcgan
from gans.train import gan_step


def _spec(dtype):
  return gan_step.GANSpec(
      generator=dcgan.Generator(image_size=28, channels=1, width=16, dtype=dtype),
      discriminator=dcgan.Discriminator(width=16, dtype=dtype),
      g_tx=optax.sgd(1e-3), d_tx=optax.sgd(1e-3), loss=losses.get_loss("nsgan"), z_dim=16)


def _flat(tree):
  return np.concatenate([np.asarray(x, np.float64).ravel() for x in jax.tree.leaves(tree)])


def test_bf16_step_close_to_fp32():
  images = jax.random.uniform(jax.random.key(0), (16, 28, 28, 1), minval=-1, maxval=1)
  batch = {"image": images, "label": jnp.zeros((16,), jnp.int32)}
  results = {}
  for dtype in (jnp.float32, jnp.bfloat16):
    spec = _spec(dtype)
    state = gan_step.init_state(spec, jax.random.key(1), (28, 28, 1))
    new, metrics = jax.jit(functools.partial(gan_step.train_step, spec))(state, batch, jax.random.key(2))
    assert all(x.dtype == jnp.float32 for x in jax.tree.leaves(new.g.params))  # master weights stay fp32
    # With SGD the parameter change is -lr * gradient: compare directions and sizes.
    results[dtype] = (_flat(state.d.params) - _flat(new.d.params), _flat(state.g.params) - _flat(new.g.params),
                      metrics)
  (d32, g32, m32), (d16, g16, m16) = results[jnp.float32], results[jnp.bfloat16]
  for a, b in ((d32, d16), (g32, g16)):
    cosine = a @ b / np.linalg.norm(a) / np.linalg.norm(b)
    assert cosine > 0.99, cosine
    assert abs(np.linalg.norm(b) / np.linalg.norm(a) - 1) < 0.05
  for k in ("d_loss", "g_loss"):
    np.testing.assert_allclose(float(m16[k]), float(m32[k]), rtol=2e-2)
