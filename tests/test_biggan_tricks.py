"""BigGAN's tricks as GAN-step parts: orthogonal regularisation of G (Brock et al. 2019, sec. 3.1) and
DiffAugment (Zhao et al. 2020) through the step's generic `augment` hook."""
import functools

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from ml_collections import ConfigDict

from gans import diffaugment, losses
from gans.data.pipeline import DataSpec
from gans.errors import UserError
from gans.models.gan import mlp
from gans.train import gan_parts, gan_step, gan_tricks

IMAGES = DataSpec(shape=(8, 8, 1), num_classes=10, num_examples=100)


def _spec(tricks=(), shape=(8, 8, 1)):
  return gan_step.GANSpec(generator=mlp.Generator(out_shape=shape, hidden=(8,), tanh_output=True),
                          discriminator=mlp.Discriminator(hidden=(8,)), g_tx=optax.adam(1e-2),
                          d_tx=optax.adam(1e-2), loss=losses.get_loss("nsgan"), z_dim=3, tricks=tuple(tricks))


def _batch(n, seed=0, shape=(8, 8, 1)):
  return {"image": jax.random.uniform(jax.random.key(seed), (n, *shape), minval=-1, maxval=1),
          "label": jnp.zeros((n,), jnp.int32)}


def _off_diagonal_norm(w):
  gram = w.T @ w
  return np.sum((gram - np.diag(np.diag(gram))) ** 2)


def test_orthogonal_regularization_term_is_beta_times_off_diagonal_gram_norm_without_shared():
  rng = np.random.default_rng(0)
  conv, dense, shared = rng.normal(size=(3, 3, 2, 4)), rng.normal(size=(5, 6)), rng.normal(size=(10, 7))
  params = {"block0": {"conv1": {"kernel": conv, "bias": rng.normal(size=4)}},
            "linear": {"kernel": dense}, "shared": {"embedding": shared}}
  beta = 1e-3
  term, metrics = gan_tricks.OrthogonalRegularization(beta).g_terms(
      gan_parts.GTerms(None, {}, None, None, None, jax.tree.map(jnp.asarray, params), {}))
  # torch's conv weight [C_out, C_in, kh, kw].view(C_out, -1) has the output units as rows: our columns.
  expected = _off_diagonal_norm(conv.reshape(-1, 4)) + _off_diagonal_norm(dense)
  np.testing.assert_allclose(metrics["g_ortho"], expected, rtol=1e-5)
  np.testing.assert_allclose(term, beta * expected, rtol=1e-5)


def test_orthogonal_regularization_option():
  config = ConfigDict({"ortho_reg": 0.0})
  assert gan_tricks.OrthogonalRegularization.from_config(config, IMAGES) is None
  config.ortho_reg = 1e-4
  assert gan_tricks.OrthogonalRegularization.from_config(config, IMAGES).beta == 1e-4
  config.ortho_reg = -1.0
  with pytest.raises(UserError, match="ortho_reg"):
    gan_tricks.OrthogonalRegularization.from_config(config, IMAGES)


def test_orthogonal_regularization_enters_g_loss_and_only_g():
  beta = 0.01
  plain, regularised = _spec(), _spec([gan_tricks.OrthogonalRegularization(beta)])
  state = gan_step.init_state(plain, jax.random.key(0), (8, 8, 1))
  _, m0 = jax.jit(functools.partial(gan_step.train_step, plain))(state, _batch(8), jax.random.key(1))
  _, m1 = jax.jit(functools.partial(gan_step.train_step, regularised))(state, _batch(8), jax.random.key(1))
  expected = sum(_off_diagonal_norm(np.asarray(w).reshape(-1, w.shape[-1]))
                 for w in jax.tree.leaves(state.g.params) if w.ndim >= 2)
  np.testing.assert_allclose(m1["g_ortho"], expected, rtol=1e-5)
  np.testing.assert_allclose(m1["d_loss"], m0["d_loss"], rtol=1e-6)  # D's update is untouched


class _Constant(gan_parts.GANPart):
  """Replaces every batch D sees adversarially by a constant image (to see where the hook acts)."""

  def augment(self, x, rng):
    return jnp.full_like(x, 0.5)


def test_augment_hook_feeds_d_the_augmented_reals_and_fakes_in_both_updates():
  spec = _spec([_Constant()])
  state = gan_step.init_state(spec, jax.random.key(0), (8, 8, 1))
  new, metrics = jax.jit(functools.partial(gan_step.train_step, spec))(state, _batch(8), jax.random.key(1))
  constant = jnp.full((1, 8, 8, 1), 0.5)
  d_before = float(spec.discriminator.apply({"params": state.d.params}, constant)[0])
  d_after = float(spec.discriminator.apply({"params": new.d.params}, constant)[0])
  np.testing.assert_allclose(metrics["d_real"], d_before, rtol=1e-5)  # D's update: T(x) for reals
  np.testing.assert_allclose(metrics["d_fake"], d_before, rtol=1e-5)  # and T(G(z)) for fakes
  np.testing.assert_allclose(metrics["g_loss"], np.log1p(np.exp(-d_after)), rtol=1e-5)  # G's: T(G(z))


def test_identity_augment_leaves_the_step_bit_identical():
  class Identity(gan_parts.GANPart):
    def augment(self, x, rng):
      return x
  plain, with_hook = _spec(), _spec([Identity()])
  state = gan_step.init_state(plain, jax.random.key(0), (8, 8, 1))
  a, _ = jax.jit(functools.partial(gan_step.train_step, plain))(state, _batch(8), jax.random.key(1))
  b, _ = jax.jit(functools.partial(gan_step.train_step, with_hook))(state, _batch(8), jax.random.key(1))
  assert all(np.array_equal(x, y) for x, y in zip(jax.tree.leaves(a), jax.tree.leaves(b)))


def test_diffaugment_trick_draws_fresh_transforms_and_passes_g_gradients():
  trick = gan_tricks.DiffAugment("color,translation,cutout")
  x = _batch(4)["image"]
  key = jax.random.key(3)
  np.testing.assert_array_equal(trick.augment(x, key), diffaugment.diff_augment(x, key, "color,translation,cutout"))
  assert not np.array_equal(trick.augment(x, key), trick.augment(x, jax.random.key(4)))
  # G's gradient through D(T(G(z))) is not zero: T is differentiable.
  spec = _spec([trick])
  state = gan_step.init_state(spec, jax.random.key(0), (8, 8, 1))
  step = jax.jit(functools.partial(gan_step.train_step, spec))
  new, _ = step(state, _batch(8), jax.random.key(1))
  moved = [not np.array_equal(a, b) for a, b in zip(jax.tree.leaves(state.g.params), jax.tree.leaves(new.g.params))]
  assert all(moved)
  again, _ = step(state, _batch(8), jax.random.key(1))  # deterministic given the seed
  assert all(np.array_equal(a, b) for a, b in zip(jax.tree.leaves(new), jax.tree.leaves(again)))


def test_diffaugment_options():
  assert gan_tricks.DiffAugment.from_config(ConfigDict({"diffaugment": ""}), IMAGES) is None
  assert gan_tricks.DiffAugment.from_config(ConfigDict({"diffaugment": "color, cutout"}), IMAGES).policy == \
      "color,cutout"
  with pytest.raises(UserError, match="unknown DiffAugment policy zoom"):
    gan_tricks.DiffAugment.from_config(ConfigDict({"diffaugment": "color,zoom"}), IMAGES)
  with pytest.raises(UserError, match="augments images"):
    gan_tricks.DiffAugment.from_config(ConfigDict({"diffaugment": "color", "dataset": "ring8"}),
                                       DataSpec(shape=(2,), num_classes=8, num_examples=10))
