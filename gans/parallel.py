"""Device mesh, shardings and multi-host helpers (jax.jit + NamedSharding; no pmap).

The default mesh has one `data` axis over every device of every process: batches are sharded along
their leading dimension, parameters and optimizer state are replicated.
"""
import jax
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec as P

from gans.errors import UserError

DATA_AXIS = "data"


def make_mesh(num_devices: int | None = None) -> Mesh:
  """A 1-D mesh with axis `data` over the first `num_devices` devices (default: all of them)."""
  available = jax.device_count()
  n = available if num_devices in (None, 0, -1) else num_devices
  if n < 1 or n > available:
    raise UserError(f"mesh of {n} devices requested but {available} are available")
  return Mesh(np.asarray(jax.devices()[:n]), (DATA_AXIS,))


def replicated(mesh: Mesh) -> NamedSharding:
  """Sharding that keeps a full copy on every device."""
  return NamedSharding(mesh, P())


def data_sharded(mesh: Mesh) -> NamedSharding:
  """Sharding of a batch along its leading dimension over the `data` axis."""
  return NamedSharding(mesh, P(DATA_AXIS))


def check_batch_size(global_batch: int, mesh: Mesh) -> int:
  """Returns the per-process batch; the global batch must split evenly over devices and processes."""
  n = mesh.devices.size
  if global_batch % n:
    raise UserError(f"batch_size {global_batch} is not divisible by the {n} devices of the mesh")
  return global_batch // jax.process_count()


def global_batch(local_batch, mesh: Mesh):
  """Assembles each process's slice of a batch (a pytree of numpy arrays) into global sharded arrays."""
  sharding = data_sharded(mesh)
  return jax.tree.map(lambda x: jax.make_array_from_process_local_data(sharding, x), local_batch)
