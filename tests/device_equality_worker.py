"""`device_equality_worker.py gan|classifier`: trains a tiny DCGAN or a CIFAR ResNet-8 classifier (both with
BatchNorm) 3 steps on 1, 2 and 8 forced CPU devices (same global batch) and prints, as JSON, the max
parameter difference of each multi-device run from the one-device run: {"2": .., "8": ..}."""
import functools
import json
import os
import sys

os.environ["XLA_FLAGS"] = os.environ.get("GANS_TEST_XLA_FLAGS", "") + " --xla_force_host_platform_device_count=8"
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import jax  # pylint: disable=g-import-not-at-top,wrong-import-position
import jax.numpy as jnp  # pylint: disable=wrong-import-position
import numpy as np  # pylint: disable=wrong-import-position
import optax  # pylint: disable=wrong-import-position

from gans import losses, parallel  # pylint: disable=wrong-import-position
from gans.models.classifiers import resnet  # pylint: disable=wrong-import-position
from gans.models.gan import dcgan  # pylint: disable=wrong-import-position
from gans.train import classifier_step, gan_step  # pylint: disable=wrong-import-position


def run_classifier(devices: int):
  mesh = parallel.make_mesh(devices)
  repl, data = parallel.replicated(mesh), parallel.data_sharded(mesh)
  # ResNet-20's blocks with n = 1 (He et al. 2016, sec. 4.2: 6n + 2 = 8 layers): a third of its compile time.
  model = resnet.ResNet((1, 1, 1), 10, bottleneck=False, small_inputs=True, base_planes=16, zero_pad_shortcut=True)
  spec = classifier_step.ClassifierSpec(model,
                                        optax.sgd(0.1, momentum=0.9, nesterov=True), 10, label_smoothing=0.1)
  state = jax.jit(lambda: classifier_step.init_state(spec, jax.random.key(0), (8, 8, 1)), out_shardings=repl)()
  step = jax.jit(functools.partial(classifier_step.train_step, spec), in_shardings=(repl, data, repl),
                 out_shardings=(repl, repl))
  for i in range(3):
    images = jax.random.normal(jax.random.key(i), (16, 8, 8, 1))
    labels = jax.random.randint(jax.random.key(100 + i), (16,), 0, 10)
    state, _ = step(state, jax.device_put({"image": images, "label": labels}, data), jax.random.key(1))
  return [np.asarray(x) for x in jax.tree.leaves(jax.device_get(state))]


def run(devices: int):
  mesh = parallel.make_mesh(devices)
  repl, data = parallel.replicated(mesh), parallel.data_sharded(mesh)
  spec = gan_step.GANSpec(generator=dcgan.Generator(image_size=28, channels=1, width=8),
                          discriminator=dcgan.Discriminator(width=8), g_tx=optax.adam(1e-2), d_tx=optax.adam(1e-2),
                          loss=losses.get_loss("nsgan"), z_dim=8, batch_sharding=data)
  state = jax.jit(lambda: gan_step.init_state(spec, jax.random.key(0), (28, 28, 1)), out_shardings=repl)()
  step = jax.jit(functools.partial(gan_step.train_step, spec), in_shardings=(repl, data, repl),
                 out_shardings=(repl, repl))
  for i in range(3):
    images = jax.random.uniform(jax.random.key(i), (16, 28, 28, 1), minval=-1, maxval=1)
    state, _ = step(state, jax.device_put({"image": images, "label": jnp.zeros((16,), jnp.int32)}, data),
                    jax.random.key(1))
  return [np.asarray(x) for x in jax.tree.leaves(jax.device_get(state))]


def max_diffs(fn) -> dict:
  ref = fn(1)
  return {str(d): max(float(np.max(np.abs(a - b))) for a, b in zip(ref, fn(d))) for d in (2, 8)}


if __name__ == "__main__":
  print(json.dumps(max_diffs({"gan": run, "classifier": run_classifier}[sys.argv[1]])))
