"""One data-parallel mesh over every device of every process."""

import jax
from jax.sharding import Mesh, NamedSharding
from jax.sharding import PartitionSpec as P
import numpy as np

from genjax.errors import ConfigError


def make_mesh(devices=None) -> Mesh:
  devices = jax.devices() if devices is None else devices
  return Mesh(np.asarray(devices), ("data",))


def replicated(mesh: Mesh) -> NamedSharding:
  return NamedSharding(mesh, P())


def batch_sharded(mesh: Mesh, stacked: bool = False) -> NamedSharding:
  """Batches split over `data`; `stacked`: k batches along a leading, unsplit axis."""
  return NamedSharding(mesh, P(None, "data") if stacked else P("data"))


def check_batch_size(batch_size: int, mesh: Mesh, what: str = "data.batch_size") -> None:
  n = mesh.devices.size
  if batch_size % n:
    raise ConfigError(f"{what}={batch_size} must be divisible by the {n} devices of the mesh.")


def global_batch(local: dict, mesh: Mesh, stacked: bool = False) -> dict:
  """Assembles each process's share of a batch (of k batches stacked along a leading
  axis) into one array sharded over `data`."""
  sharding = batch_sharded(mesh, stacked)
  return jax.tree.map(lambda x: jax.make_array_from_process_local_data(sharding, x), local)
