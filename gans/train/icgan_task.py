"""IcGAN (Perarnau et al. 2016, "Invertible Conditional GANs for image editing"): encoders that invert a trained
class-conditional GAN, so that a real image x can be edited as G(E_z(x), y') for any label y'.

The generator is a trained conditional GAN run (`config.generator_workdir`: variant cgan or acgan, any
architecture, e.g. configs/biggan_fashion_mnist.py), frozen: its sampling weights (the EMA ones when kept, with
the run's standing statistics) are copied into this task's state at initialisation. Two encoders are trained
(sec. 3.2, the separate-encoder setting "IND"):

  E_z: image -> z, on pairs (G(z, y'), z) with z, y' drawn as the GAN drew them, L2 loss
       L_ez = E ||z - E_z(G(z, y'))||_2^2;
  E_y: image -> class logits, on the real labelled training images, cross-entropy.

Both are classifiers of `gans.models.classifiers` (`config.encoder_model`; E_z's "classes" are z's entries).
Evaluation: E_y's test accuracy, E_z's latent error on fresh samples, the error of the reconstruction
G(E_z(x), E_y(x)) of test images (sec. 3.3), and with `eval_extractor` the edit accuracy: how often that
classifier assigns an image edited to class y' to y'. Pictures: samples/step_<N>.png (test images and their
reconstructions) and samples/edits_step_<N>.png (each row a test image, then its edit to every class).
"""
import os

import flax
import jax
import jax.numpy as jnp
import numpy as np
import optax
from ml_collections import ConfigDict

from gans import checkpoint, parallel, visualize
from gans.data import eval_input, pipeline
from gans.data.pipeline import DataSpec
from gans.errors import UserError
from gans.metrics import features
from gans.models import classifiers
from gans.train import gan_step, loop, optim
from gans.train.gan_step import GANState, NetState
from gans.train.gan_task import GANTask
from gans.train.task import TASKS, WholeStep


@flax.struct.dataclass
class IcGANState:
  """The two encoders being trained and the frozen generator they invert."""
  step: jax.Array
  e_z: NetState
  e_y: NetState
  generator: GANState  # the frozen generator: sampling weights in g.params (no EMA, D or optimizer entries)


def encoder_z_loss(z_pred: jax.Array, z: jax.Array) -> jax.Array:
  """E ||z - E_z(x)||_2^2: the squared L2 distance per example, averaged over the batch."""
  return jnp.mean(jnp.sum(jnp.square(z_pred.astype(jnp.float32) - z), axis=-1))


def encoder_y_loss(logits: jax.Array, labels: jax.Array) -> jax.Array:
  """Mean softmax cross-entropy of E_y's logits against the integer labels."""
  return jnp.mean(optax.softmax_cross_entropy_with_integer_labels(logits.astype(jnp.float32), labels))


def _apply(model, net: NetState, x, train: bool, rng=None):
  """(outputs, new batch_stats) of an encoder."""
  variables = {"params": net.params, "batch_stats": net.batch_stats}
  rngs = {"dropout": rng} if rng is not None else {}
  if train and net.batch_stats:
    out, updates = model.apply(variables, x, train=True, mutable=["batch_stats"], rngs=rngs)
    return out, updates["batch_stats"]
  return model.apply(variables, x, train=train, rngs=rngs), net.batch_stats


def _update(model, tx, net: NetState, x, loss_fn, rng) -> tuple[NetState, jax.Array]:
  def objective(params):
    out, stats = _apply(model, net.replace(params=params), x, True, rng)
    return loss_fn(out), stats

  (loss, stats), grads = jax.value_and_grad(objective, has_aux=True)(net.params)
  updates, opt_state = tx.update(grads, net.opt_state, net.params)
  return NetState(optax.apply_updates(net.params, updates), stats, opt_state), loss


def load_generator(workdir: str, data: DataSpec) -> tuple[GANTask, GANState]:
  """The GAN task of a trained class-conditional run and its state for sampling (see the module docstring)."""
  config = checkpoint.load_config(workdir)
  if config.get("task", "gan") != "gan":
    raise UserError(f"generator_workdir {workdir} holds a {config.task} run, not a GAN")
  gan_data = pipeline.data_spec(config)
  gan = GANTask(config, gan_data)
  variant = gan.spec.variant
  if not (variant.uses_batch_labels and variant.draws_labels):
    raise UserError(f"icgan inverts a class-conditional GAN (variant cgan or acgan); {workdir} has variant "
                    f"{config.get('variant', 'unconditional')}")
  if variant.num_labels != data.num_classes or tuple(gan_data.shape) != tuple(data.shape):
    raise UserError(f"the generator makes {variant.num_labels} classes of {gan_data.shape} "
                    f"images; this config's data has {data.num_classes} classes of {data.shape} (use its dataset, "
                    f"image_size and preprocess)")
  mesh = parallel.make_mesh(1)
  abstract = loop.shard_task(gan, mesh, config, jax.random.key(config.seed)).abstract_state
  state, _ = checkpoint.restore(checkpoint.manager(workdir, async_save=False), abstract)
  if state is None:
    raise UserError(f"no checkpoint in {workdir}/checkpoints")
  state = gan.sampling_state(state, config.seed)
  params = state.g_ema if state.g_ema is not None else state.g.params
  frozen = GANState(state.step, NetState(params, state.g.batch_stats, None), None, None, state.extra)
  return gan, jax.device_get(frozen)


@TASKS.register("icgan")
class IcGANTask:
  """Trains IcGAN's encoders E_z and E_y of a frozen conditional generator; `edit` changes images' labels."""

  def __init__(self, config: ConfigDict, data: DataSpec, mesh=None):
    if not config.get("generator_workdir"):
      raise UserError("icgan needs config.generator_workdir: a trained class-conditional GAN run")
    self.config, self.data = config, data
    self.gan, self._generator = load_generator(config.generator_workdir, data)
    self.num_classes, self.z_dim = data.num_classes, self.gan.spec.z_dim
    self.e_z = classifiers.from_config(config.encoder_model, self.z_dim)
    self.e_y = classifiers.from_config(config.encoder_model, self.num_classes)
    self.tx = optim.make(config.optimizer, config.total_steps)
    self.examples_per_step = config.batch_size
    self.step = WholeStep(self.train_step)
    self._generate = jax.jit(self.generate)
    self._edit = jax.jit(self._edit_fn)
    self._predict = jax.jit(lambda state, x: (_apply(self.e_z, state.e_z, x, False)[0],
                                              _apply(self.e_y, state.e_y, x, False)[0]))
    self._test = None  # the test split, read at the first evaluation
    self._classifier = None  # eval_extractor, loaded at the first evaluation

  def _init_net(self, model, rng) -> NetState:
    variables = model.init(rng, jnp.zeros((1, *self.data.shape)), train=False)
    params = variables["params"]
    return NetState(params, variables.get("batch_stats", {}), self.tx.init(params))

  def init(self, rng: jax.Array) -> IcGANState:
    z_rng, y_rng = jax.random.split(rng)
    generator = jax.tree.map(jnp.asarray, self._generator)
    return IcGANState(jnp.zeros((), jnp.int32), self._init_net(self.e_z, z_rng), self._init_net(self.e_y, y_rng),
                      generator)

  def generate(self, state: IcGANState, z, cond):
    """G(z, cond) of the frozen generator, in inference mode."""
    return gan_step.generate(self.gan.spec, state.generator, z, cond)

  def train_step(self, state: IcGANState, batch: dict, rng: jax.Array) -> tuple[IcGANState, dict]:
    """One update of E_z on generated pairs and one of E_y on the real batch (pure, jittable)."""
    rng = jax.random.fold_in(rng, state.step)
    g_rng, z_rng, y_rng = jax.random.split(rng, 3)
    z, cond, _ = gan_step.sample_inputs(self.gan.spec, g_rng, batch["image"].shape[0])
    fake = jax.lax.stop_gradient(self.generate(state, z, cond))
    e_z, z_loss = _update(self.e_z, self.tx, state.e_z, fake, lambda out: encoder_z_loss(out, z), z_rng)
    labels = batch["label"]
    e_y, y_loss = _update(self.e_y, self.tx, state.e_y, batch["image"],
                          lambda out: encoder_y_loss(out, labels), y_rng)
    metrics = {"encoder_z_loss": z_loss, "encoder_y_loss": y_loss}
    return state.replace(step=state.step + 1, e_z=e_z, e_y=e_y), metrics

  def _edit_fn(self, state: IcGANState, images, labels):
    z, _ = _apply(self.e_z, state.e_z, images, False)
    return self.generate(state, z.astype(jnp.float32), jax.nn.one_hot(labels, self.num_classes))

  def edit(self, state: IcGANState, images: np.ndarray, labels, batch_size: int = 250) -> np.ndarray:
    """G(E_z(x), y') for images x [N, H, W, C] in [-1, 1] and new labels y' [N] (Perarnau et al. 2016,
    sec. 3.3), float32 numpy."""
    images = np.asarray(images, np.float32)
    labels = np.asarray(labels)
    if images.ndim != 4 or tuple(images.shape[1:]) != tuple(self.data.shape):
      raise UserError(f"images must be [N, {', '.join(map(str, self.data.shape))}] like the generator's, got "
                      f"{list(images.shape)}")
    if labels.shape != (len(images),) or not np.issubdtype(labels.dtype, np.integer) or (
        len(labels) and (labels.min() < 0 or labels.max() >= self.num_classes)):
      raise UserError(f"labels must be {len(images)} integers in [0, {self.num_classes}), got "
                      f"{labels.tolist()[:10]}")
    out = [np.asarray(self._edit(state, images[i:i + batch_size], labels[i:i + batch_size].astype(np.int32)))
           for i in range(0, len(images), batch_size)]
    return np.concatenate(out).astype(np.float32)

  def evaluate(self, state: IcGANState, step: int, workdir: str) -> dict:
    """E_y's accuracy on the first `eval_num_examples` test images; E_z's latent error ||z - E_z(G(z, y))||^2
    on as many fresh samples; the mean squared pixel error of G(E_z(x), E_y(x)) against those test images.
    Writes samples/step_<N>.png: rows of a test image and its reconstruction."""
    if self._test is None:
      images, labels = eval_input.split_arrays(self.config, "test")
      n = self.config.get("eval_num_examples", 1000)
      self._test = images[:n], labels[:n]
    images, labels = self._test
    z_pred, logits = map(np.concatenate, zip(*(jax.device_get(self._predict(state, images[i:i + 250]))
                                               for i in range(0, len(images), 250))))
    predicted = logits.argmax(-1)
    reconstructed = self.edit(state, images, predicted)
    z, cond, _ = gan_step.sample_inputs(self.gan.spec, jax.random.key(self.config.seed + 1), len(images))
    fake = np.asarray(self._generate(state, z, cond))
    z_fake = np.asarray(self._predict(state, fake)[0])
    result = {"test_accuracy": float(np.mean(predicted == labels)),
              "z_reconstruction_error": float(encoder_z_loss(z_fake, np.asarray(z))),
              "image_reconstruction_mse": float(np.mean(np.square(reconstructed - images)))}
    if self.config.get("eval_extractor"):
      result.update(self._edit_accuracy(state, images, labels))
    if jax.process_index() == 0:
      k = min(8, len(images))
      grid = np.stack([images[:k], reconstructed[:k]], 1).reshape(2 * k, *images.shape[1:])
      visualize.save_image_grid(grid, os.path.join(workdir, "samples", f"step_{step}.png"), ncols=2)
      k = min(self.num_classes, 10, len(images))  # each row: a test image, then its edit to every class
      edits = self.edit(state, np.repeat(images[:k], self.num_classes, 0), np.tile(np.arange(self.num_classes), k))
      grid = np.concatenate([images[:k, None], edits.reshape(k, self.num_classes, *images.shape[1:])], 1)
      visualize.save_image_grid(grid.reshape(-1, *images.shape[1:]),
                                os.path.join(workdir, "samples", f"edits_step_{step}.png"), ncols=self.num_classes + 1)
    return result

  def _edit_accuracy(self, state: IcGANState, images: np.ndarray, labels: np.ndarray) -> dict:
    """`edit_accuracy`: how often the classifier `eval_extractor` assigns G(E_z(x), y') to y', for every test
    image x edited to each class y' other than its own (Perarnau et al. 2016 judge edits by eye and by an
    attribute classifier, sec. 4.2)."""
    if self._classifier is None:
      self._classifier = features.get_extractor(self.config.eval_extractor)
    k = self.num_classes
    targets = (labels[:, None] + np.arange(1, k)[None, :]) % k  # [N, k - 1]: every other class
    edited = self.edit(state, np.repeat(images, k - 1, 0), targets.reshape(-1))
    _, logits = self._classifier(features.to_uint8(edited))
    hit = logits.argmax(1) == targets.reshape(-1)
    out = {"edit_accuracy": float(hit.mean())}
    out.update({f"edit_accuracy_{c}": float(hit[targets.reshape(-1) == c].mean()) for c in range(k)})
    return out
