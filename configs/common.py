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
