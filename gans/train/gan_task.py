"""The GAN task: builds a GANSpec from a config and gives the loop its init, step and evaluation."""
import functools
import json
import os

import jax
import jax.numpy as jnp
import numpy as np
from ml_collections import ConfigDict

from gans import losses, penalties, visualize
from gans.data import toy
from gans.data.pipeline import DataSpec
from gans.errors import UserError
from gans.models import gan as gan_models
from gans.train import gan_step, optim


def _labelled_subset(config: ConfigDict, data: DataSpec) -> tuple[np.ndarray, np.ndarray]:
  """SGAN's labelled examples: the first `sgan.labels_per_class` examples of each class in the
  dataset's stored train order (tfds order for images, stream seed 0 for the 2-D mixtures), so the
  subset depends on nothing but the dataset; preprocessed like the training data."""
  per_class = config.sgan.labels_per_class
  if config.dataset in toy.MIXTURES:
    points, modes = toy.sample_batch(config.dataset, 0, 0, 50 * per_class * data.num_classes)
    images, labels = points, modes
  else:
    images, labels = _split_arrays(config, "train")
  keep = np.concatenate([np.flatnonzero(labels == k)[:per_class] for k in range(data.num_classes)])
  if len(keep) != per_class * data.num_classes:
    raise UserError(f"sgan.labels_per_class={per_class}: some class has fewer examples")
  return jnp.asarray(images[keep]), jnp.asarray(labels[keep], jnp.int32)


def _split_arrays(config: ConfigDict, split: str) -> tuple[np.ndarray, np.ndarray]:
  """A whole image split in stored order as (images preprocessed by config.preprocess, labels)."""
  from gans.train import classifier_task  # pylint: disable=g-import-not-at-top
  ds, _ = classifier_task.eval_dataset(ConfigDict({**config.to_dict(), "eval_preprocess": config.preprocess}), split)
  arrays = [(b["image"], b["label"]) for b in ds.batch(10_000).as_numpy_iterator()]
  return np.concatenate([a[0] for a in arrays]), np.concatenate([a[1] for a in arrays])


def _d_heads(config: ConfigDict, data: DataSpec) -> dict:
  """The discriminator heads the variant needs beyond the adversarial one."""
  aux = config.get("aux", "none")
  heads = {}
  if aux in ("acgan", "sgan"):
    heads["num_classes"] = data.num_classes
  if aux == "sgan":
    heads["adv"] = False  # the adversarial logit is logsumexp of the class logits
  if aux == "infogan":
    heads["q_dim"] = config.info.categories + config.info.continuous
  if config.get("feature_matching", False):
    heads["features"] = True
  return heads


def build_spec(config: ConfigDict, data: DataSpec, batch_sharding=None) -> gan_step.GANSpec:
  """Models, optimizers, loss, penalty and variant options named in the config."""
  aux = config.get("aux", "none")
  if aux not in gan_step.AUX:
    raise UserError(f"unknown aux {aux!r}; known: {', '.join(gan_step.AUX)}")
  if config.n_critic < 1:
    raise UserError(f"n_critic must be >= 1, got {config.n_critic}")
  if aux in ("cgan", "acgan", "sgan") and data.num_classes < 2:
    raise UserError(f"aux={aux} needs a labelled dataset; {config.dataset} has {data.num_classes} classes")
  pack_m = config.get("pack", 1)
  if pack_m < 1 or config.batch_size % pack_m:
    raise UserError(f"pack must be >= 1 and divide batch_size={config.batch_size}, got {pack_m}")
  if pack_m > 1 and aux != "none":
    raise UserError(f"pack > 1 works with unconditional variants only, got aux={aux}")
  accum = optim.accum_steps(config, multiple_of=pack_m)
  if aux == "sgan" and config.sgan.labelled_batch % accum:
    raise UserError(f"grad_accum_steps={accum} must divide sgan.labelled_batch={config.sgan.labelled_batch}")
  loss_name = config.loss
  if (loss_name == "began") != (config.model.name == "began"):
    raise UserError("the began loss and the began model (autoencoder discriminator) go together")
  generator, discriminator = gan_models.create(config.model, data.shape, _d_heads(config, data))
  labelled = _labelled_subset(config, data) if aux == "sgan" else None
  return gan_step.GANSpec(
      generator=generator, discriminator=discriminator,
      g_tx=optim.make(config.g_optimizer, config.total_steps),
      d_tx=optim.make(config.d_optimizer, config.total_steps * config.n_critic),
      loss=(losses.began() if loss_name == "began" else
            losses.get_loss(loss_name, **dict(config.get("loss_options", {})))),
      penalty=penalties.get_penalty(config.penalty, **dict(config.get("penalty_options", {}))),
      penalty_weight=config.penalty_weight, n_critic=config.n_critic, z_dim=config.model.z_dim,
      ema_decay=config.ema_decay, weight_clip=config.weight_clip, batch_sharding=batch_sharding,
      aux=aux, aux_weight=config.get("aux_weight", 1.0), num_classes=data.num_classes,
      info_codes=(config.info.categories, config.info.continuous) if aux == "infogan" else (0, 0),
      feature_matching=config.get("feature_matching", False), pack=pack_m,
      began=(config.began.gamma, config.began.lambda_k) if loss_name == "began" else None,
      labelled=labelled, labelled_batch=config.sgan.labelled_batch if aux == "sgan" else 0,
      accum_steps=accum)


class GANTask:
  """What the train loop needs for a GAN: init, step, evaluation and sampling."""

  def __init__(self, config: ConfigDict, data: DataSpec, batch_sharding=None):
    self.config, self.data = config, data
    self.spec = build_spec(config, data, batch_sharding)
    self.examples_per_step = config.batch_size * config.n_critic
    self.step = gan_step.split_step(self.spec)
    self._generate = jax.jit(functools.partial(gan_step.generate, self.spec))
    self._classify = jax.jit(lambda state, x: gan_step.discriminate(
        self.spec, state.d.params, state.d.batch_stats, x, None, train=False)[0]["class_logits"])
    self._test = None
    self._extractor = None  # built at the first evaluation with eval_extractor

  def init(self, rng: jax.Array) -> gan_step.GANState:
    return gan_step.init_state(self.spec, rng, self.data.shape)

  @property
  def conditional(self) -> bool:
    """Whether samples are drawn for given labels (cgan, acgan; infogan's categorical code)."""
    return self.spec.aux in ("cgan", "acgan", "infogan")

  @property
  def num_labels(self) -> int:
    return self.spec.info_codes[0] if self.spec.aux == "infogan" else self.spec.num_classes

  def sample(self, state, num: int, seed: int, batch_size: int = 500, labels=None) -> np.ndarray:
    """`num` samples from G (EMA weights when kept), in batches, as float32 numpy.

    For conditional models `labels` ([num] ints) fixes the class (infogan: the categorical code); by
    default they are drawn uniformly.
    """
    if labels is not None:
      labels = np.asarray(labels, np.int32)
      if not self.conditional:
        raise UserError("this model is unconditional: labels do not apply")
      if labels.shape != (num,) or labels.min() < 0 or labels.max() >= self.num_labels:
        raise UserError(f"labels must be {num} integers in [0, {self.num_labels}), got {labels.tolist()[:10]}")
    z, cond, _ = gan_step.sample_inputs(self.spec, jax.random.key(seed), num,
                                        None if labels is None else jnp.asarray(labels))
    out = [np.asarray(self._generate(state, z[i:i + batch_size], None if cond is None else cond[i:i + batch_size]))
           for i in range(0, num, batch_size)]
    return np.concatenate(out).astype(np.float32)

  def test_accuracy(self, state) -> float:
    """SGAN: accuracy of D's K-way prediction on the test split."""
    if self._test is None:
      self._test = _split_arrays(self.config, "test")
    images, labels = self._test
    logits = [np.asarray(self._classify(state, images[i:i + 500])) for i in range(0, len(images), 500)]
    return float(np.mean(np.concatenate(logits).argmax(-1) == labels))

  def _sample_quality(self, state, workdir: str) -> dict:
    """FID/FCD, IS/classifier score, KID, precision/recall, density/coverage of `eval_num_samples` samples
    with `eval_extractor` (see gans.metrics.evaluator); the protocol goes to workdir/eval_protocol.json."""
    from gans.metrics import evaluator, features  # pylint: disable=g-import-not-at-top
    if self._extractor is None:
      self._extractor = features.get_extractor(self.config.eval_extractor)
    result = evaluator.evaluate_state(self.config, self, state, self.config.get("eval_num_samples", 2000),
                                      self._extractor, seed=self.config.seed + 2,
                                      cache_dir=evaluator.default_cache_dir(self.config, workdir))
    protocol = result.pop("protocol")
    if jax.process_index() == 0:
      with open(os.path.join(workdir, "eval_protocol.json"), "w") as f:
        json.dump(protocol, f, indent=2, sort_keys=True)
    return result

  def evaluate(self, state, step: int, workdir: str) -> dict:
    """Writes samples/step_<N>.png; for 2-D mixtures also returns the PacGAN mode-coverage metrics;
    for SGAN on images the test accuracy of its classifier."""
    from gans.metrics import mode_coverage  # pylint: disable=g-import-not-at-top
    path = os.path.join(workdir, "samples", f"step_{step}.png")
    if self.config.dataset in toy.MIXTURES:
      points = self.sample(state, 2500, seed=self.config.seed + 1)  # 2,500 samples (Lin et al. 2018, sec. 5.1)
      modes = toy.modes(self.config.dataset)
      result = mode_coverage.mode_coverage(points, modes, toy.mode_std(self.config.dataset))
      if jax.process_index() == 0:
        visualize.save_scatter(points, path, modes, f"step {step}: {result['modes_captured']} modes")
      return result
    result = {"test_accuracy": self.test_accuracy(state)} if self.spec.aux == "sgan" else {}
    if self.config.get("eval_extractor"):
      result.update(self._sample_quality(state, workdir))
    if jax.process_index() == 0:
      if self.conditional:  # one row per label
        k = min(self.num_labels, 10)
        images = self.sample(state, k * 10, seed=self.config.seed + 1, labels=np.repeat(np.arange(k), 10))
        visualize.save_image_grid(images, path, ncols=10)
      else:
        visualize.save_image_grid(self.sample(state, 64, seed=self.config.seed + 1), path, ncols=8)
    return result
