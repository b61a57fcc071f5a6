"""IcGAN (Perarnau et al. 2016): encoders E_z (image -> z) and E_y (image -> class) that invert the
class-conditional BigGAN of configs/biggan_fashion_mnist.py (train that first), so that a Fashion-MNIST image can
be redrawn as another class: G(E_z(x), y'). LeNet-5 bodies (ReLU, dense head) for both encoders, Adam(2e-4,
b1=0.5) as the paper's DCGAN-style training (sec. 4).

  python -m launch.train --config configs/icgan_fashion_mnist.py --workdir workdirs/icgan_fashion_mnist
  python -m launch.edit --workdir workdirs/icgan_fashion_mnist --input images.npz --labels 3,7 --out edited.npz
  (--config.generator_workdir=DIR for another cgan/acgan/biggan run; dataset and image size must be its own)
"""
import ml_collections

from configs import common


def get_config():
  c = common._base("icgan")  # the launch contract's keys
  c.experiment = "icgan_fashion_mnist"
  c.generator_workdir = "workdirs/biggan_fashion_mnist"
  c.dataset = "fashion_mnist"
  c.image_size = 32  # the generator's
  c.preprocess = "value_range(-1,1)"
  c.batch_size = 64
  c.encoder_model = ml_collections.ConfigDict({"name": "lenet5", "head": "dense", "activation": "relu"})
  c.optimizer = common.optimizer("adam", 2e-4, b1=0.5, b2=0.999)
  c.total_steps = 5_000
  c.log_every = 100
  c.eval_every = 1_000
  c.checkpoint_every = 1_000
  c.eval_num_examples = 1_000
  c.eval_extractor = "shipped:fashion_mnist"  # scores the edits (edit_accuracy); samples resized to its 28x28
  return c
