"""GAN variants: what G is conditioned on, what D predicts besides real/fake, and the auxiliary losses.

Chosen by `config.variant`; `config.aux_weight` is lambda of the auxiliary terms.
"""
import jax
import jax.numpy as jnp
import numpy as np
from ml_collections import ConfigDict

from gans import losses
from gans.data import eval_input, toy
from gans.data.pipeline import DataSpec
from gans.errors import UserError
from gans.train import optim
from gans.train.gan_parts import VARIANTS, DTerms, GTerms, Variant


def _needs_labels(name: str, config: ConfigDict, data: DataSpec):
  if data.num_classes < 2:
    raise UserError(f"variant {name} needs a labelled dataset; {config.dataset} has {data.num_classes} classes")


@VARIANTS.register("unconditional")
class Unconditional(Variant):
  """G(z) and a real/fake D (Goodfellow et al. 2014)."""

  @classmethod
  def from_config(cls, config, data):
    return cls()


class _LabelConditioned(Variant):
  """G gets the one-hot label [z, y]; labels drawn uniformly unless given."""
  draws_labels = uses_batch_labels = labels_are_classes = True

  def __init__(self, num_classes: int, weight: float = 1.0):
    self.num_labels = self.cond_dim = num_classes
    self.weight = weight

  @classmethod
  def from_config(cls, config, data):
    _needs_labels(cls.name, config, data)
    return cls(data.num_classes, config.get("aux_weight", 1.0))

  def sample_cond(self, rng, batch_size, labels, shard):
    c_rng, _ = jax.random.split(rng)
    if labels is None:
      labels = jax.random.randint(c_rng, (batch_size,), 0, self.num_labels)
    labels = shard(labels)
    return jax.nn.one_hot(labels, self.num_labels, dtype=jnp.float32), {"label": labels}


@VARIANTS.register("cgan")
class CGAN(_LabelConditioned):
  """Conditional GAN (Mirza & Osindero 2014): G and D both get the one-hot label."""
  name = "cgan"

  def real_cond(self, labels):
    return jax.nn.one_hot(labels, self.num_labels)

  def d_cond(self, cond):
    return cond


@VARIANTS.register("acgan")
class ACGAN(_LabelConditioned):
  """AC-GAN (Odena et al. 2017): G gets the label, D a class head; L_C on real and fake for D, on fake for G."""
  name = "acgan"

  def d_heads(self):
    return {"num_classes": self.num_labels}

  def d_terms(self, t: DTerms):  # eq. 3: D maximises L_C on real and fake.
    real_ce = losses.classification_loss(t.real_heads["class_logits"], t.real_labels)
    fake_ce = losses.classification_loss(t.fake_heads["class_logits"], t.targets["label"])
    return self.weight * (real_ce + fake_ce), {"class_loss_real": real_ce, "class_loss_fake": fake_ce}

  def g_terms(self, t: GTerms):  # eq. 3: G also maximises L_C on its samples.
    ce = losses.classification_loss(t.fake_heads["class_logits"], t.targets["label"])
    return self.weight * ce, {"g_class_loss": ce}


@VARIANTS.register("infogan")
class InfoGAN(Variant):
  """InfoGAN (Chen et al. 2016): G gets a uniform categorical code and continuous codes ~ U[-1, 1]
  (sec. 5); a Q head on D's body; D, Q and G maximise lambda L_I (eq. 6)."""
  draws_labels = True

  def __init__(self, categories: int, continuous: int, weight: float = 1.0):
    self.num_labels, self.continuous, self.weight = categories, continuous, weight
    self.cond_dim = categories + continuous

  @classmethod
  def from_config(cls, config, data):
    return cls(config.info.categories, config.info.continuous, config.get("aux_weight", 1.0))

  def sample_cond(self, rng, batch_size, labels, shard):
    c_rng, u_rng = jax.random.split(rng)
    if labels is None:
      labels = jax.random.randint(c_rng, (batch_size,), 0, self.num_labels)
    labels = shard(labels)
    cat = jax.nn.one_hot(labels, self.num_labels, dtype=jnp.float32)
    cont = shard(jax.random.uniform(u_rng, (batch_size, self.continuous), jnp.float32, -1.0, 1.0))
    return jnp.concatenate([cat, cont], axis=-1), {"cat": labels, "cont": cont}

  def d_heads(self):
    return {"q_dim": self.cond_dim}

  def d_terms(self, t: DTerms):
    mi = losses.infogan_mi_lower_bound(t.fake_heads["q"], t.targets["cat"], t.targets["cont"])
    return self.weight * -mi, {"mi_lower_bound": mi}

  def g_terms(self, t: GTerms):
    mi = losses.infogan_mi_lower_bound(t.fake_heads["q"], t.targets["cat"], t.targets["cont"])
    return -(self.weight * mi), {"g_mi_lower_bound": mi}


@VARIANTS.register("sgan")
class SGAN(Variant):
  """Semi-supervised GAN (Salimans et al. 2016, sec. 5): D is a K-way classifier whose fake class has its
  logit fixed at 0, trained on `labelled_batch` of a few labelled examples per D update besides the
  unsupervised real/fake terms."""

  def __init__(self, images, labels, num_classes: int, labelled_batch: int, weight: float = 1.0):
    self.images, self.labels, self.num_classes = images, labels, num_classes
    self.labelled_batch, self.weight = labelled_batch, weight
    self._test = None  # the test split's arrays, read at the first evaluation

  @classmethod
  def from_config(cls, config, data):
    _needs_labels("sgan", config, data)
    accum = optim.accum_steps(config)
    if config.sgan.labelled_batch % accum:
      raise UserError(f"grad_accum_steps={accum} must divide sgan.labelled_batch={config.sgan.labelled_batch}")
    images, labels = labelled_subset(config, data)
    return cls(images, labels, data.num_classes, config.sgan.labelled_batch, config.get("aux_weight", 1.0))

  def d_heads(self):
    return {"num_classes": self.num_classes, "adv": False}  # the adversarial logit comes from the class logits

  def heads(self, heads):
    return {**heads, "adv": losses.k_plus_one_logit(heads["class_logits"])}

  def d_inputs(self, rng):
    idx = jax.random.randint(rng, (self.labelled_batch,), 0, self.labels.shape[0])
    return self.images[idx], self.labels[idx]

  def d_terms(self, t: DTerms):
    images, labels = t.d_inputs
    ce = losses.classification_loss(t.discriminate(images, None)["class_logits"], labels)
    return self.weight * ce, {"supervised_loss": ce}

  def evaluate(self, classify, config):
    """Accuracy of D's K-way prediction on the test split (image data)."""
    if config.dataset in toy.MIXTURES:
      return {}
    if self._test is None:
      self._test = eval_input.split_arrays(config, "test")
    images, labels = self._test
    logits = [np.asarray(classify(images[i:i + 500])) for i in range(0, len(images), 500)]
    return {"test_accuracy": float(np.mean(np.concatenate(logits).argmax(-1) == labels))}


def labelled_subset(config: ConfigDict, data: DataSpec) -> tuple[jax.Array, jax.Array]:
  """SGAN's labelled examples: the first `sgan.labels_per_class` examples of each class in the
  dataset's stored train order (tfds order for images, stream seed 0 for the 2-D mixtures), so the
  subset depends on nothing but the dataset; preprocessed like the training data."""
  per_class = config.sgan.labels_per_class
  if config.dataset in toy.MIXTURES:
    images, labels = toy.sample_batch(config.dataset, 0, 0, 50 * per_class * data.num_classes)
  else:
    images, labels = eval_input.split_arrays(config, "train")
  keep = np.concatenate([np.flatnonzero(labels == k)[:per_class] for k in range(data.num_classes)])
  if len(keep) != per_class * data.num_classes:
    raise UserError(f"sgan.labels_per_class={per_class}: some class has fewer examples")
  return jnp.asarray(images[keep]), jnp.asarray(labels[keep], jnp.int32)
