"""The loop's own training step, built as launch.train builds it: what every benchmark of
a step times (train_throughput.py, paper_scale.py, conv_vs_torch.py).

The step is `genjax.train.loop.make_step_fn`'s (same shardings and donation as a real
run), compiled ahead of time for one batch so that compiling is timed apart from
stepping; the state comes from the experiment's own jitted init, replicated on the mesh.
"""

import launch  # noqa: F401  (first: its XLA:CPU flags and log level, launch/malloc.py)

# isort: split
import importlib
import importlib.util
import pathlib
import sys
import time

import jax
import numpy as np

import experiments
import experiments.configs
from genjax import data as gdata
from genjax.train import flops as flops_lib
from genjax.train import mesh as mesh_lib
from genjax.train.loop import make_step_fn


def load_config(spec: str, data_dir: str = "", compute_dtype: str = "", batch_size: int = 0):
  """The config `name[:arg]` under experiments/configs, with the benchmarks' overrides
  (each left as the config has it when empty or 0)."""
  name, _, arg = spec.partition(":")
  if importlib.util.find_spec(f"experiments.configs.{name}") is None:
    folder = pathlib.Path(experiments.configs.__path__[0])
    known = sorted(p.stem for p in folder.glob("*_*.py") if not p.stem.startswith("_"))
    sys.exit(f"unknown config {name!r}; the configs are {', '.join(known)}.")
  config = importlib.import_module(f"experiments.configs.{name}").get_config(arg or None)
  if data_dir:
    config.data.data_dir = data_dir
  if compute_dtype:
    config.train.compute_dtype = compute_dtype
  if batch_size:
    config.data.batch_size = batch_size
  return config


def build(config):
  """(experiment, mesh over every device, initial state replicated on it)."""
  mesh = mesh_lib.make_mesh()
  experiment = experiments.build(config)
  state = jax.jit(experiment.init, out_shardings=mesh_lib.replicated(mesh))(jax.random.key(0))
  return experiment, mesh, state


def compile_step(experiment, mesh, state, batch, k: int = 1):
  """(the step compiled for `batch` (k stacked batches when k > 1), compile seconds)."""
  step_fn = make_step_fn(experiment, mesh, jax.random.key(1), k)
  t = time.perf_counter()
  compiled = step_fn.lower(state, batch, np.int32(0)).compile()
  return compiled, time.perf_counter() - t


def model_flops(experiment, mesh, state, batch) -> float:
  """The one-step program's model FLOPs (products and convolutions, from its jaxpr:
  genjax/train/flops.py), the same on every backend: what MFU is taken against."""
  step_fn = make_step_fn(experiment, mesh, jax.random.key(1), 1)
  return flops_lib.model_flops(step_fn, state, batch, np.int32(0))


def step_bytes(compiled) -> int:
  """What one step holds at once by XLA's own account: its arguments, outputs and
  temporaries, less the donated arguments its outputs reuse. XLA:CPU's
  `peak_memory_in_bytes` leaves the temporaries out (MAE at batch 256: 0.4 GB against 1.3
  GB of temporaries), so the larger of the two is taken."""
  mem = compiled.memory_analysis()
  held = (
    mem.argument_size_in_bytes
    + mem.output_size_in_bytes
    + mem.temp_size_in_bytes
    - mem.alias_size_in_bytes
  )
  return max(held, getattr(mem, "peak_memory_in_bytes", 0) or 0)


def mock_batch(config, mesh):
  """One global batch of `config.data`'s shape from `tfds.testing.mock_data`, through
  the real pipeline (no dataset download), on `mesh`; and the same batch on the host."""
  with gdata.mock_catalog(num_examples=max(config.data.batch_size, 8)):
    it = gdata.make_train_iterator(config.data, seed=0, process_index=0, process_count=1)
    host = next(it)
  return mesh_lib.global_batch(host, mesh), host


def stacked_batch(host, mesh, k: int):
  """k copies of a host batch stacked along a leading axis: the input of k steps per call."""
  return mesh_lib.global_batch(jax.tree.map(lambda x: np.stack([x] * k), host), mesh, stacked=True)


def step_timer(compiled, state, batch, k: int = 1, warmup_calls: int = 2, first_step: int = 0):
  """After `warmup_calls` calls, run(steps) -> seconds per step of at least `steps` more
  steps (whole calls of k steps each): the `run` of conv_vs_torch.serve's workers. The
  state is carried from call to call (the step donates it; `run.state()` is the latest),
  and step numbers keep counting from `first_step`, as in training."""
  n = first_step
  for _ in range(warmup_calls):
    state, _ = compiled(state, batch, np.int32(n))
    n += k
  jax.block_until_ready(state)

  def run(steps: int) -> float:
    nonlocal state, n
    calls = -(-steps // k)
    t = time.perf_counter()
    for _ in range(calls):
      state, metrics = compiled(state, batch, np.int32(n))
      n += k
    jax.block_until_ready((state, metrics))
    return (time.perf_counter() - t) / (calls * k)

  run.state = lambda: state
  return run
