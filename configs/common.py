"""Defaults shared by the experiment configs; each experiment overrides what it changes."""
import ml_collections


def optimizer(name: str = "adam", learning_rate: float = 2e-4, **kw) -> ml_collections.ConfigDict:
  return ml_collections.ConfigDict({"name": name, "learning_rate": learning_rate, "schedule": "constant", **kw})


def gan_config() -> ml_collections.ConfigDict:
  """A DCGAN with the non-saturating loss and Adam(2e-4, b1=0.5) (Radford et al. 2016, sec. 4)."""
  c = ml_collections.ConfigDict()
  c.task = "gan"
  c.experiment = "gan"
  c.seed = 0
  c.dataset = "fashion_mnist"
  c.data_dir = ml_collections.FieldReference(None, field_type=str)
  c.cache_data = True
  c.preprocess = "value_range(-1,1)"
  c.num_devices = 0  # 0: all devices
  c.total_steps = 10_000
  c.batch_size = 64  # per discriminator step; a train step reads n_critic * batch_size examples
  c.log_every = 100
  c.eval_every = 1_000
  c.checkpoint_every = 1_000
  c.model = ml_collections.ConfigDict({
      "name": "dcgan", "z_dim": 100, "g_width": 64, "d_width": 64, "d_batch_norm": True,
      "g_hidden": (256, 256), "d_hidden": (256, 256), "dtype": "float32"})
  c.loss = "nsgan"
  c.penalty = "none"
  c.penalty_weight = 0.0
  c.n_critic = 1
  c.weight_clip = 0.0
  c.ema_decay = 0.0
  c.g_optimizer = optimizer("adam", 2e-4, b1=0.5, b2=0.999)
  c.d_optimizer = optimizer("adam", 2e-4, b1=0.5, b2=0.999)
  return c


def classifier_config() -> ml_collections.ConfigDict:
  """A small-input ResNet-18 trained with SGD + Nesterov, warmup + cosine, label smoothing 0.1."""
  c = ml_collections.ConfigDict()
  c.task = "classifier"
  c.experiment = "classifier"
  c.seed = 0
  c.dataset = "fashion_mnist"
  c.data_dir = ml_collections.FieldReference(None, field_type=str)
  c.cache_data = True
  c.preprocess = "value_range(-1,1)|flip_lr"  # train batches
  c.eval_preprocess = "value_range(-1,1)"  # deterministic ops only
  c.eval_split = "test"
  c.eval_batch_size = 500  # global; divisible by the number of devices
  c.tta_flip = False  # average the logits of each test image and its mirror
  c.num_devices = 0  # 0: all devices
  c.total_steps = 10_000
  c.batch_size = 128
  c.log_every = 100
  c.eval_every = 1_000
  c.checkpoint_every = 1_000
  # `name` plus the registered constructor's keyword arguments (see gans.models.classifiers).
  c.model = ml_collections.ConfigDict({"name": "resnet18", "small_inputs": True, "dtype": "float32"})
  c.optimizer = optimizer("sgd", 0.1, momentum=0.9, nesterov=True, weight_decay=5e-4, schedule="cosine",
                          warmup_steps=500)
  c.decay_norm_and_bias = False  # weight decay on kernels only
  c.label_smoothing = 0.1
  # Fine-tuning: a workdir or checkpoint whose parameters are copied where path and shape match (a head
  # for another number of classes stays fresh); `init_from_exclude` is a regex of paths never copied;
  # `freeze` a regex of parameter paths kept fixed (their BatchNorm statistics too).
  c.init_from = ""
  c.init_from_exclude = ""
  c.freeze = ""
  return c
