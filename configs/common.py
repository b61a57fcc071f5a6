"""Defaults shared by the experiment configs; each experiment overrides what it changes."""
import ml_collections

from gans.errors import UserError


def optimizer(name: str = "adam", learning_rate: float = 2e-4, **kw) -> ml_collections.ConfigDict:
  return ml_collections.ConfigDict({"name": name, "learning_rate": learning_rate, "schedule": "constant", **kw})


def _base(task: str) -> ml_collections.ConfigDict:
  """The keys every experiment has (the launch contract: seed, dataset, total_steps, *_every, ...)."""
  c = ml_collections.ConfigDict()
  c.task = task
  c.experiment = task
  c.seed = 0
  c.dataset = "fashion_mnist"
  c.data_dir = ml_collections.FieldReference(None, field_type=str)
  c.cache_data = True
  c.num_devices = 0  # 0: all devices
  c.mesh = ml_collections.ConfigDict({"data": -1, "fsdp": 1})  # axis sizes; -1 takes the remaining devices
  c.total_steps = 10_000
  c.log_every = 100
  c.eval_every = 1_000
  c.checkpoint_every = 1_000
  c.grad_accum_steps = 1  # micro-batches per update, run one after another (batch_size / grad_accum_steps each)
  # Op kinds XLA:CPU hands to YNNPACK in the train step (gans.train.loop.compiler_options; only CPU
  # compiles read it). "jaxlib" is jaxlib's default (convolutions and dots too); with XLA's own (Eigen)
  # convolutions train steps ran 1.2-2x faster on a 2-core CPU, and YNNPACK's reductions a further 1.0-1.22x
  # (docs/performance.md).
  c.xla_cpu_ynn_fusions = "reduce"
  return c


def gan_config() -> ml_collections.ConfigDict:
  """A DCGAN with the non-saturating loss and Adam(2e-4, b1=0.5) (Radford et al. 2016, sec. 4)."""
  c = _base("gan")
  c.preprocess = "value_range(-1,1)"
  c.batch_size = 64  # per discriminator step; a train step reads n_critic * batch_size examples
  c.model = ml_collections.ConfigDict({
      "name": "dcgan", "z_dim": 100, "g_width": 64, "d_width": 64, "d_batch_norm": True,
      "g_hidden": (256, 256), "d_hidden": (256, 256), "dtype": "float32",
      "spectral_norm": False,  # every D layer (Miyato et al. 2018); drops D's BatchNorm
      "minibatch_kernels": 0, "minibatch_dim": 5,  # minibatch discrimination B, C (Salimans et al. 2016)
      "h_dim": 64})  # BEGAN embedding size
  c.loss = "nsgan"  # minimax | nsgan | lsgan | wasserstein | hinge | began
  c.loss_options = ml_collections.ConfigDict()  # e.g. lsgan's {'a', 'b', 'c'}
  c.penalty = "none"
  c.penalty_options = ml_collections.ConfigDict()  # e.g. {'c': 0.5} for dragan
  c.penalty_weight = 0.0
  c.n_critic = 1
  c.weight_clip = 0.0
  c.ema_decay = 0.0
  # Variants (gans.train.gan_variants): what G and D are conditioned on / trained to predict; tricks
  # (gans.train.gan_tricks): feature matching, packing, BEGAN's k_t, label smoothing, historical averaging, VBN.
  c.variant = "unconditional"  # unconditional | cgan | acgan | infogan | sgan (gans.train.gan_variants)
  c.aux_weight = 1.0  # lambda of the class / mutual-information / supervised terms
  c.info = ml_collections.ConfigDict({"categories": 10, "continuous": 2})  # InfoGAN codes (Chen et al. 2016)
  c.feature_matching = False  # G loss = ||E f(x) - E f(G(z))||^2 (Salimans et al. 2016, sec. 3.1)
  c.pack = 1  # PacGAN degree m (Lin et al. 2018)
  c.began = ml_collections.ConfigDict({"gamma": 0.5, "lambda_k": 0.001})  # Berthelot et al. 2017, sec. 4
  c.sgan = ml_collections.ConfigDict({"labels_per_class": 100, "labelled_batch": 100})
  c.label_smoothing = 0.0  # one-sided: D's real targets 1 - alpha (Salimans et al. 2016, sec. 3.4)
  c.historical_averaging = 0.0  # weight of ||theta - mean of past theta||^2 (Salimans et al. 2016, sec. 3.3)
  c.virtual_batch_norm = 0  # reference batch size for G's virtual batch norm, 0 = off (Salimans et al. 2016, 3.4)
  c.diffaugment = ""  # D sees differentiably augmented images, e.g. "translation,cutout" (Zhao et al. 2020)
  # Sample quality every eval_every steps (image data): an extractor name of gans.metrics.features, e.g.
  # "classifier:workdirs/resnet20_fashion_mnist" (FCD, classifier score) or "inception_fid"; "" for none.
  c.eval_extractor = ""
  c.eval_num_samples = 2000
  c.g_optimizer = optimizer("adam", 2e-4, b1=0.5, b2=0.999)
  c.d_optimizer = optimizer("adam", 2e-4, b1=0.5, b2=0.999)
  return c


def classifier_config() -> ml_collections.ConfigDict:
  """A small-input ResNet-18 trained with SGD + Nesterov, warmup + cosine, label smoothing 0.1."""
  c = _base("classifier")
  c.preprocess = "value_range(-1,1)|flip_lr"  # train batches
  c.eval_preprocess = "value_range(-1,1)"  # deterministic ops only
  c.eval_split = "test"
  c.validation_examples = 0  # > 0: hold out the train split's last N images and evaluate on them instead
  c.eval_batch_size = 500  # global; divisible by the number of devices
  c.tta_flip = False  # average the logits of each test image and its mirror
  c.tta_shift = 0  # > 0: and of its 4 copies shifted by this many pixels (edge-padded)
  c.batch_size = 128  # global batch per update
  # `name` plus the registered constructor's keyword arguments (see gans.models.classifiers).
  c.model = ml_collections.ConfigDict({"name": "resnet18", "small_inputs": True, "dtype": "float32"})
  c.optimizer = optimizer("sgd", 0.1, momentum=0.9, nesterov=True, weight_decay=5e-4, schedule="cosine",
                          warmup_steps=500)
  c.decay_norm_and_bias = False  # weight decay on kernels only
  c.label_smoothing = 0.1
  c.ema_decay = 0.0  # > 0: evaluate an exponential moving average of the weights (e.g. 0.999)
  # Fine-tuning: a workdir or checkpoint whose parameters are copied where path and shape match (a head
  # for another number of classes stays fresh); `init_from_exclude` is a regex of paths never copied;
  # `freeze` a regex of parameter paths kept fixed (their BatchNorm statistics too).
  c.init_from = ""
  c.init_from_exclude = ""
  c.freeze = ""
  # > 0: that many training images (the first, unaugmented) set the parameters the model computes from
  # data before training (the model's `data_init`, e.g. airbench's whitening conv).
  c.data_init_images = 0
  return c


def fashion_mnist_classifier(experiment: str, model: str, epochs: int, learning_rate: float,
                             weight_decay: float, batch_size: int = 128, **model_kwargs) -> ml_collections.ConfigDict:
  """A small-input `model` on Fashion-MNIST's 60k train images: SGD + Nesterov with warmup (one epoch) then
  cosine, weight decay on kernels, label smoothing 0.1, flips and 2-pixel random crops; evaluation and a
  checkpoint every epoch or two."""
  c = classifier_config()
  c.experiment = experiment
  c.dataset = "fashion_mnist"
  c.model.name = model
  c.model.small_inputs = True
  c.model.update(model_kwargs)
  c.preprocess = "value_range(-1,1)|flip_lr|random_crop(28,2)"
  c.batch_size = batch_size
  steps_per_epoch = -(-60_000 // batch_size)
  c.total_steps = epochs * steps_per_epoch
  c.optimizer = optimizer("sgd", learning_rate, momentum=0.9, nesterov=True, weight_decay=weight_decay,
                          schedule="cosine", warmup_steps=steps_per_epoch,
                          lookahead_every=0)  # > 0: airbench's lookahead (gans.train.optim.lookahead)
  c.label_smoothing = 0.1
  c.log_every = 100
  c.eval_every = 2 * steps_per_epoch
  c.checkpoint_every = steps_per_epoch
  return c


def check_dataset(config_file: str, dataset: str, datasets: tuple[str, ...]) -> None:
  """A UserError naming `config_file`'s datasets when `dataset` is not one of them."""
  if dataset not in datasets:
    raise UserError(f"configs/{config_file} has no dataset {dataset!r}; known: {', '.join(datasets)} "
                    f"(--config configs/{config_file}:<dataset>)")


def dcgan_fashion_mnist(experiment: str, settings=None) -> ml_collections.ConfigDict:
  """The DCGAN of `gan_config` on Fashion-MNIST at 28x28 for 6,000 steps (64x64 with
  --config.image_size=64); then `settings(c)`, a variant's loss / penalty / options, if given."""
  c = gan_config()
  c.experiment = experiment
  c.dataset = "fashion_mnist"
  c.image_size = 28
  c.total_steps = 6_000
  c.log_every = 100
  c.eval_every = 1_000
  c.checkpoint_every = 1_000
  # FCD, KID, precision/recall of 2,000 samples at every evaluation, with the classifier the library ships;
  # KID over 10 subsets (launch.evaluate uses 100), so that evaluating costs a few percent of the run.
  c.eval_extractor = "shipped:fashion_mnist"
  c.eval_kid_subsets = 10
  return settings(c) if settings is not None else c


def mixture_gan(experiment: str, dataset: str, settings=None, *, learning_rate: float = 1e-3,
                ema_decay: float = 0.999, batch_size: int | None = None) -> ml_collections.ConfigDict:
  """A GAN with MLP G and D (z_dim = 2) on a 2-D PacGAN mixture (`dataset`: ring8 or grid25), tuned
  (nsgan) to cover every mode with ~95% or more high-quality samples.

  ring8: 2 x 128 MLPs, batch 512 (256 drops a mode for nsgan seed 2), 20k steps; grid25 (modes 2 apart
  on a 9 x 9 square): 3 x 256 MLPs, batch 512, 20k steps (batch 256 and 16k steps left nsgan seed 1 at
  21/25 modes; batch 512, 20k: 25/25 at 97.6%); `batch_size` overrides the batch.
  Adam(learning_rate, b1=0.5, b2=0.999) for both players; then `settings(c)` (a variant's loss, penalty
  and, where its paper fixes them, optimizers); last, every learning rate decays to 0 on a cosine over the
  run and samples come from an EMA of G's weights (with 20k steps instead of 3k they lift nsgan ring8 seed 0
  from 52% to 98%).
  """
  c = gan_config()
  c.experiment, c.dataset = experiment, dataset
  c.model.name = "mlp"
  c.model.z_dim = 2
  c.model.g_hidden = c.model.d_hidden = (256, 256, 256) if dataset == "grid25" else (128, 128)
  c.batch_size = batch_size or 512
  c.total_steps = 20_000
  c.log_every = 500
  c.eval_every = c.checkpoint_every = c.total_steps // 4
  c.g_optimizer = optimizer("adam", learning_rate, b1=0.5, b2=0.999)
  c.d_optimizer = optimizer("adam", learning_rate, b1=0.5, b2=0.999)
  if settings is not None:
    c = settings(c)
  for opt in (c.g_optimizer, c.d_optimizer):
    opt.schedule = "cosine"
  c.ema_decay = ema_decay
  return c
