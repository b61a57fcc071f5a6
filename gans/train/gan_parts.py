"""The pieces a GAN step is assembled from: one variant (what G is conditioned on, which heads D has, the
auxiliary losses) and any number of tricks (feature matching, packing, weight clipping, label smoothing, ...).

The step (`gans.train.gan_step`) calls the hooks below at fixed points and is never edited for a new piece:
a new variant or trick is one class registered here by name (see `gan_variants.py`, `gan_tricks.py`), plus
the config option that turns it on. Every hook's default does nothing.
"""
from typing import Any, Callable, NamedTuple

import jax
from ml_collections import ConfigDict

from gans.data.pipeline import DataSpec
from gans.registry import Registry

# name -> Variant subclass, chosen by config.variant
VARIANTS = Registry("GAN variant", packages=("gans.train.gan_variants",))
# name -> GANPart subclass, each turned on by its own config option
TRICKS = Registry("GAN trick", packages=("gans.train.gan_tricks",))


class DTerms(NamedTuple):
  """What a discriminator-loss hook may read."""
  real_heads: dict  # D's outputs on the real batch ('adv', and the heads the parts asked for)
  fake_heads: dict  # on G's samples
  real_labels: jax.Array  # [B] (zeros for unlabelled data)
  targets: dict  # the variant's targets for the fakes (e.g. 'label', 'cat', 'cont')
  d_inputs: Any  # the variant's extra examples of this D update (SGAN's labelled batch), or None
  discriminate: Callable  # x, cond -> heads, with the parameters being differentiated
  params: Any  # D's parameters being differentiated
  extra: dict  # the state's `extra`


class GTerms(NamedTuple):
  """What a generator-loss hook may read."""
  fake_heads: dict
  targets: dict
  real: jax.Array  # the real batch of this update
  real_cond: Any  # the real batch's conditioning for D (CGAN), or None
  discriminate: Callable  # x, cond -> heads with D's current (fixed) parameters
  params: Any  # G's parameters being differentiated
  extra: dict


class GANPart:
  """A trick (and the base of a variant): hooks called by the GAN step."""

  batch_multiple: int = 1  # D's batch (and each micro-batch) must be a multiple of this (PacGAN's m)

  @classmethod
  def from_config(cls, config: ConfigDict, data: DataSpec) -> "GANPart | None":
    """The part a config asks for (for a trick: None when its option is off)."""
    raise NotImplementedError

  def d_heads(self) -> dict:
    """Discriminator heads needed beyond the adversarial one (`gans.models.gan.heads.outputs` arguments)."""
    return {}

  def model_options(self) -> dict:
    """Model config keys this part sets (e.g. the generator's normalisation)."""
    return {}

  def init_extra(self, rng: jax.Array, g_params, d_params, spec) -> dict:
    """Entries this part keeps in the state's `extra` (arrays only)."""
    return {}

  def d_input(self, x: jax.Array) -> jax.Array:
    """D's input batch made from (unpacked) examples."""
    return x

  def augment(self, x: jax.Array, rng: jax.Array) -> jax.Array:
    """A real or generated batch (unpacked examples) just before D sees it in the adversarial terms of D's
    update (and its penalty) and of G's; `rng` is fresh for each batch and update (DiffAugment)."""
    return x

  def heads(self, heads: dict) -> dict:
    """D's outputs after the network (e.g. SGAN's adversarial logit from the class logits)."""
    return heads

  def d_loss_kwargs(self, extra: dict) -> dict:
    """Keyword arguments of the GAN loss's d_loss (BEGAN's k_t)."""
    return {}

  def d_terms(self, t: DTerms) -> tuple[jax.Array | None, dict]:
    """A weighted term added to D's loss (None: none), and metrics."""
    return None, {}

  def g_loss(self, t: GTerms) -> jax.Array | None:
    """G's loss in place of the adversarial one (None: keep the GAN loss's g_loss)."""
    return None

  def g_terms(self, t: GTerms) -> tuple[jax.Array | None, dict]:
    """A weighted term added to G's loss (None: none), and metrics."""
    return None, {}

  def after_d_update(self, params):
    """D's parameters after each of its updates (WGAN's clipping)."""
    return params

  def after_step(self, state, d_metrics: dict, g_metrics: dict) -> tuple[dict, dict]:
    """At the end of a step (G and D updated, step not yet advanced): updated `extra` entries, and metrics."""
    return {}, {}

  def generator_call(self, apply: Callable, z: jax.Array, cond, extra: dict):
    """Runs `apply(z, cond) -> (images, batch_stats)`; a part may add inputs around the batch (VBN)."""
    return apply(z, cond)


class Variant(GANPart):
  """What the generator is conditioned on and what the discriminator predicts besides real/fake."""

  draws_labels: bool = False  # samples are drawn for labels (classes or InfoGAN's category): grids by label
  uses_batch_labels: bool = False  # the real batch's labels enter the step (CGAN's D, ACGAN's class loss)
  num_labels: int = 0  # samples can be drawn for labels in [0, num_labels) (classes or InfoGAN's category)
  labels_are_classes: bool = False  # those labels are the dataset's classes (not InfoGAN's learned category)
  cond_dim: int = 0  # width of G's conditioning input (0: unconditional)

  def sample_cond(self, rng: jax.Array, batch_size: int, labels, shard: Callable) -> tuple[Any, dict]:
    """G's conditioning input [B, cond_dim] (or None) and the targets of the auxiliary losses."""
    return None, {}

  def real_cond(self, labels: jax.Array):
    """D's conditioning input for real examples with these labels (None: D is unconditional)."""
    return None

  def d_cond(self, cond):
    """D's conditioning input given G's (None: D is unconditional)."""
    return None

  def d_inputs(self, rng: jax.Array):
    """Extra examples for one D update, batch first (SGAN's labelled batch), or None."""
    return None

  def evaluate(self, classify: Callable, config: ConfigDict) -> dict:
    """Variant-specific evaluation; `classify(images) -> D's class logits` (SGAN's test accuracy)."""
    return {}
