"""CycleGAN (Zhu et al. 2017) between Fashion-MNIST's sneakers (class 7, domain A, from the first half of the
train split) and ankle boots (class 9, domain B, from the second half), so no pair exists; 32 x 32 images,
a small ResNet generator (3 blocks, ngf 16) and a 70 x 70-rule PatchGAN (3 layers, ndf 16) with instance norm
to fit 2 CPU cores; LSGAN loss, cycle 10, identity 0.5 x 10, a 50-image history, batch 1, Adam(2e-4, 0.5,
0.999) constant for half the run then linear to 0 (sec. 7.1).

  python -m launch.train --config configs/cyclegan_fashion_mnist.py --workdir workdirs/cyclegan \
    --config.eval_classifier=workdirs/resnet20_fashion_mnist
  python -m launch.translate --workdir workdirs/cyclegan --input sneaker.png --out_dir out

Evaluation: the in-domain classifier named by `eval_classifier` (a classifier workdir; without one the
class accuracy of translations is skipped) on translated test images, and the cycle L1 error.
"""
import ml_collections

from configs import common


def get_config():
  c = common._base("cyclegan")  # pylint: disable=protected-access
  c.experiment = "cyclegan_fashion_mnist"
  c.dataset = "fashion_mnist"
  c.image_size = 32
  c.preprocess = "value_range(-1,1)"
  # Sneakers from the first half of the train split, ankle boots from the second: disjoint, so no pairs.
  c.domains = ml_collections.ConfigDict({"a_label": 7, "a_split": "train[:50%]", "b_label": 9,
                                         "b_split": "train[50%:]"})
  c.eval_split = "test"
  c.batch_size = 1  # per domain, as the paper
  c.model = ml_collections.ConfigDict({"n_blocks": 3, "ngf": 16, "netD": "basic", "n_layers_D": 3, "ndf": 16,
                                       "norm": "instance"})
  c.lambda_cycle = 10.0
  c.lambda_identity = 0.5
  c.pool_size = 50
  c.g_optimizer = common.optimizer("adam", 2e-4, b1=0.5, b2=0.999)  # halved then linear to 0 (see docstring)
  c.d_optimizer = common.optimizer("adam", 2e-4, b1=0.5, b2=0.999)
  c.translate_direction = "AB"  # launch.translate: A -> B (sneaker -> boot) or "BA"
  c.eval_classifier = ""  # a classifier workdir, e.g. workdirs/resnet20_fashion_mnist
  c.total_steps = 20_000
  c.log_every = 200
  c.eval_every = 2_000
  c.checkpoint_every = 2_000
  return c
