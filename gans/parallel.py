"""Device mesh, shardings and multi-host helpers (jax.jit + NamedSharding; no pmap).

The mesh has a `data` axis and optionally `fsdp` and `model` axes. Batches are sharded along their leading
dimension over (`data`, `fsdp`). Parameters and optimizer state are replicated, except that (1) leaves whose
path matches a rule `(regex, PartitionSpec)` take that spec, and (2) with an `fsdp` axis larger than one, the
remaining large leaves are sharded along their largest dimension that divides evenly (ZeRO-3 / FSDP style),
so large generators such as BigGAN or StyleGAN fit. XLA inserts the all-gathers.
"""
import re
from typing import Any, Mapping, Sequence

import jax
import numpy as np
from jax.sharding import Mesh, NamedSharding
from jax.sharding import PartitionSpec as P

from gans.errors import UserError

DATA_AXIS = "data"
AXES = ("data", "fsdp", "model")
BATCH_AXES = ("data", "fsdp")
FSDP_MIN_SIZE = 2 ** 14  # leaves smaller than this stay replicated


def make_mesh(num_devices: int | None = None, shape: Mapping[str, int] | None = None) -> Mesh:
  """A mesh over the first `num_devices` devices (default all) with axes `shape` (default {'data': -1}).

  One axis size may be -1: it takes the devices the others leave.
  """
  available = jax.device_count()
  n = available if num_devices in (None, 0, -1) else num_devices
  if n < 1 or n > available:
    raise UserError(f"mesh of {n} devices requested but {available} are available")
  shape = dict(shape or {DATA_AXIS: -1})
  unknown = set(shape) - set(AXES)
  if unknown or DATA_AXIS not in shape:
    raise UserError(f"mesh axes must include 'data' and be among {AXES}, got {sorted(shape)}")
  fixed = int(np.prod([v for v in shape.values() if v != -1]))
  free = [k for k, v in shape.items() if v == -1]
  if len(free) > 1 or (free and n % fixed) or (not free and fixed != n):
    raise UserError(f"mesh shape {shape} does not fit {n} devices")
  if free:
    shape[free[0]] = n // fixed
  names = tuple(a for a in AXES if a in shape)
  devices = np.asarray(jax.devices()[:n]).reshape([shape[a] for a in names])
  return Mesh(devices, names)


def mesh_from_config(config) -> Mesh:
  """The mesh a config asks for (`num_devices`, optional `mesh` axis sizes)."""
  shape = config.get("mesh")
  return make_mesh(config.get("num_devices"), dict(shape) if shape else None)


def replicated(mesh: Mesh) -> NamedSharding:
  """Sharding that keeps a full copy on every device."""
  return NamedSharding(mesh, P())


def _batch_axes(mesh: Mesh):
  axes = tuple(a for a in BATCH_AXES if a in mesh.axis_names)
  return axes if len(axes) > 1 else axes[0]


def data_sharded(mesh: Mesh) -> NamedSharding:
  """Sharding of a batch along its leading dimension over the batch axes (`data`, `fsdp`)."""
  return NamedSharding(mesh, P(_batch_axes(mesh)))


def batch_devices(mesh: Mesh) -> int:
  """Number of shards a batch is split into."""
  return int(np.prod([mesh.shape[a] for a in BATCH_AXES if a in mesh.axis_names]))


def _fsdp_spec(shape: Sequence[int], size: int) -> P:
  if size <= 1 or int(np.prod(shape)) < FSDP_MIN_SIZE:
    return P()
  for dim in sorted(range(len(shape)), key=lambda d: -shape[d]):
    if shape[dim] % size == 0:
      return P(*[("fsdp" if d == dim else None) for d in range(len(shape))])
  return P()


def state_shardings(state: Any, mesh: Mesh, rules: Sequence[tuple[str, Sequence[Any]]] = ()) -> Any:
  """NamedShardings for every leaf of `state` (arrays or ShapeDtypeStructs), by path rules then FSDP."""
  compiled = [(re.compile(pattern), P(*spec)) for pattern, spec in rules]
  fsdp = mesh.shape.get("fsdp", 1)

  def one(path, leaf):
    name = "/".join(str(getattr(k, "key", getattr(k, "name", getattr(k, "idx", k)))) for k in path)
    for pattern, spec in compiled:
      if pattern.search(name):
        if len(spec) > len(leaf.shape):
          raise UserError(f"sharding rule {pattern.pattern!r} gives {spec} to {name} of shape {leaf.shape}")
        return NamedSharding(mesh, spec)
    return NamedSharding(mesh, _fsdp_spec(leaf.shape, fsdp))
  return jax.tree_util.tree_map_with_path(one, state)


def check_batch_size(global_batch: int, mesh: Mesh) -> int:
  """Returns the per-process batch; the global batch must split evenly over devices and processes."""
  n = batch_devices(mesh)
  if global_batch % n:
    raise UserError(f"batch_size {global_batch} is not divisible by the {n} batch shards of the mesh")
  return global_batch // jax.process_count()


def global_batch(local_batch, mesh: Mesh):
  """Assembles each process's slice of a batch (a pytree of numpy arrays) into global sharded arrays."""
  sharding = data_sharded(mesh)
  return jax.tree.map(lambda x: jax.make_array_from_process_local_data(sharding, x), local_batch)
