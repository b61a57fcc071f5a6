"""Meshes and state shardings: FSDP rules, mesh errors, sharded steps equal to one device."""
import functools

import jax
import numpy as np
import pytest
from test_gan_step import _batch, _max_diff, _spec  # shared helpers of the GAN step tests

from gans import parallel
from gans.models.gan import mlp
from gans.train import gan_step


def test_fsdp_mesh_shards_large_leaves_and_matches_one_device():
  spec_kw = dict(generator=mlp.Generator(out_shape=(2,), hidden=(256, 256)),
                 discriminator=mlp.Discriminator(hidden=(256, 256)))
  mesh = parallel.make_mesh(4, {"data": 2, "fsdp": 2})
  spec = _spec(batch_sharding=parallel.data_sharded(mesh), **spec_kw)
  abstract = jax.eval_shape(lambda: gan_step.init_state(spec, jax.random.key(0), (2,)))
  shardings = parallel.state_shardings(abstract, mesh)
  big = shardings.g.params["Dense_1"]["kernel"]  # 256 x 256 = 65,536 >= FSDP_MIN_SIZE
  assert big.spec == jax.sharding.PartitionSpec("fsdp", None) or big.spec == jax.sharding.PartitionSpec(None, "fsdp")
  assert shardings.g.params["Dense_0"]["bias"].spec == jax.sharding.PartitionSpec()
  step = jax.jit(functools.partial(gan_step.train_step, spec), in_shardings=(shardings, parallel.data_sharded(mesh),
                                                                          parallel.replicated(mesh)),
                 out_shardings=(shardings, parallel.replicated(mesh)))
  state = jax.jit(lambda: gan_step.init_state(spec, jax.random.key(0), (2,)), out_shardings=shardings)()
  ref_spec = _spec(**spec_kw)
  ref = gan_step.init_state(ref_spec, jax.random.key(0), (2,))
  ref_step = jax.jit(functools.partial(gan_step.train_step, ref_spec))
  for i in range(3):
    state, _ = step(state, _batch(8, seed=i), jax.random.key(1))
    ref, _ = ref_step(ref, _batch(8, seed=i), jax.random.key(1))
  assert state.g.params["Dense_1"]["kernel"].sharding.spec == big.spec
  assert _max_diff(state, ref) < 1e-4  # float reduction order differs across shardings


def test_mesh_that_does_not_fit_is_a_user_error():
  from gans.errors import UserError
  with pytest.raises(UserError, match="does not fit"):
    parallel.make_mesh(4, {"data": 3})
  with pytest.raises(UserError, match="available"):
    parallel.make_mesh(64)


def test_step_loop_makes_no_host_transfers():
  mesh = parallel.make_mesh(4)
  spec = _spec(batch_sharding=parallel.data_sharded(mesh))
  state = jax.device_put(gan_step.init_state(spec, jax.random.key(0), (2,)), parallel.replicated(mesh))
  batch = jax.device_put(_batch(8), parallel.data_sharded(mesh))
  rng = jax.device_put(jax.random.key(1), parallel.replicated(mesh))
  step = jax.jit(functools.partial(gan_step.train_step, spec), donate_argnums=0)
  state, metrics = step(state, batch, rng)  # compile outside the guard
  with jax.transfer_guard("disallow"):
    for _ in range(3):
      state, metrics = step(state, batch, rng)
  # The guard is live: an implicit host-to-device transfer is refused. (XLA:CPU does not guard
  # device-to-host copies; the loop's fetches are counted in test_train_loop instead.)
  with pytest.raises(Exception, match="[Dd]isallowed"):
    with jax.transfer_guard("disallow"):
      step(state, {"image": np.zeros((8, 2), np.float32), "label": np.zeros(8, np.int32)}, rng)
  assert int(jax.device_get(state.step)) == 4


@pytest.mark.parametrize("model", ["gan", "classifier"])  # two tests, so pytest -n 2 runs them side by side
def test_dcgan_and_resnet_with_batchnorm_match_across_1_2_8_devices(model):
  import json
  import os
  import subprocess
  import sys  # pylint: disable=g-import-not-at-top,multiple-imports
  worker = os.path.join(os.path.dirname(os.path.abspath(__file__)), "device_equality_worker.py")
  out = subprocess.run([sys.executable, worker, model], capture_output=True, text=True, timeout=600,
                       check=True).stdout
  diffs = json.loads(out.strip().splitlines()[-1])
  assert set(diffs) == {"2", "8"} and max(diffs.values()) < 1e-4, diffs
