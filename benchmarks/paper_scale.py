"""Each paper-scale config at full size, on mock data: what a step costs and what the
paper's training would cost, here and on an H100.

  python benchmarks/paper_scale.py                        # every paper config
  python benchmarks/paper_scale.py --configs=ddpm_cifar10 --steps=3
  python benchmarks/paper_scale.py --steps=0              # compile only: FLOPs and estimates

For each config: the real model, batch and image size of the paper's setting, the loop's
own jitted step, batches from `tfds.testing.mock_data` through the real pipeline (no
dataset download). Printed: parameters, compile seconds, seconds per step here (median of
--steps timed steps after one warm-up), GFLOP per step (XLA's cost analysis of the one-step
program), peak memory, and for the config's train.num_steps (the paper's length): the time
here at the measured step time, and on one H100 at 40 % of its dense bf16 peak from the
FLOPs. Not a test: printed, never asserted.
"""

import importlib
import resource
import tempfile
import time

from absl import app, flags, logging
import jax
import numpy as np

import experiments
from genjax import data as gdata
from genjax.train import flops as flops_lib
from genjax.train import mesh as mesh_lib
from genjax.train.loop import make_step_fn

PAPER_CONFIGS = (
  "vae_mnist",
  "gan_mnist",
  "dcgan_cifar10",
  "dcgan_celeb_a",
  "cyclegan_horse2zebra",
  "ddpm_cifar10",
  "pixelcnn_cifar10",
  "gated_pixelcnn_cifar10",
  "row_lstm_cifar10",
  "diagonal_bilstm_cifar10",
  "mae_cifar10",
)
H100_AT_40 = 0.4 * 989e12

FLAGS = flags.FLAGS
flags.DEFINE_list("configs", list(PAPER_CONFIGS), "Paper-scale configs (name[:arg]).")
flags.DEFINE_integer("steps", 2, "Timed steps per config after one warm-up; 0 compiles only.")


def _hours(seconds: float) -> str:
  if not np.isfinite(seconds):
    return "—"
  return f"{seconds / 3600:.1f} h" if seconds >= 360 else f"{seconds:.0f} s"


def measure(spec: str, steps: int) -> dict:
  name, _, arg = spec.partition(":")
  config = importlib.import_module(f"experiments.configs.{name}").get_config(arg or None)
  config.data.data_dir = tempfile.mkdtemp()
  mesh = mesh_lib.make_mesh()
  experiment = experiments.build(config)
  with gdata.mock_catalog(num_examples=max(config.data.batch_size, 8)):
    it = gdata.make_train_iterator(config.data, seed=0, process_index=0, process_count=1)
    batch = mesh_lib.global_batch(next(it), mesh)
  state = jax.jit(experiment.init, out_shardings=mesh_lib.replicated(mesh))(jax.random.key(0))
  params = sum(x.size for x in jax.tree.leaves(state) if hasattr(x, "size")) // 1
  step_fn = make_step_fn(experiment, mesh, jax.random.key(1))
  t = time.perf_counter()
  compiled = step_fn.lower(state, batch, np.int32(0)).compile()
  compile_s = time.perf_counter() - t
  step_flops = flops_lib.compiled_flops(compiled)
  # XLA's own account of the step program: its peak, or arguments + outputs + temporaries
  # where the backend reports no peak (the state is donated, so outputs alias arguments).
  mem = compiled.memory_analysis()
  step_bytes = getattr(mem, "peak_memory_in_bytes", 0) or (
    mem.argument_size_in_bytes
    + mem.output_size_in_bytes
    + mem.temp_size_in_bytes
    - mem.alias_size_in_bytes
  )
  step_s = float("nan")
  if steps > 0:
    state, _ = compiled(state, batch, np.int32(0))
    jax.block_until_ready(state)
    times = []
    for i in range(steps):
      t = time.perf_counter()
      state, metrics = compiled(state, batch, np.int32(i + 1))
      jax.block_until_ready((state, metrics))
      times.append(time.perf_counter() - t)
    step_s = float(np.median(times))
  n = config.train.num_steps
  return dict(
    config=spec,
    batch=config.data.batch_size,
    image=config.data.image_size or "native",
    state_numbers=params,
    compile_s=compile_s,
    step_s=step_s,
    gflop=step_flops / 1e9,
    step_mib=step_bytes / 2**20,
    peak_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**10,
    num_steps=n,
    here_s=step_s * n,
    h100_s=step_flops * n / H100_AT_40,
  )


def main(argv):
  del argv
  logging.set_verbosity(logging.WARNING)
  dev = jax.devices()[0]
  print(f"device: {jax.device_count()} x {dev.device_kind} ({jax.default_backend()})")
  print(
    "| config | batch | image | state numbers | compile s | s/step here | GFLOP/step "
    "| step memory MiB | peak RSS MiB | paper steps | paper's training here "
    "| on an H100 at 40 % MFU |"
  )
  print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
  for spec in FLAGS.configs:
    r = measure(spec, FLAGS.steps)
    print(
      f"| {r['config']} | {r['batch']} | {r['image']} | {r['state_numbers']:,} "
      f"| {r['compile_s']:.1f} | {r['step_s']:.3g} | {r['gflop']:.1f} | {r['step_mib']:.0f} "
      f"| {r['peak_mb']:.0f} "
      f"| {r['num_steps']:,} | {_hours(r['here_s'])} | {_hours(r['h100_s'])} |",
      flush=True,
    )
  print(
    "state numbers: parameters, optimiser moments and EMA together. step memory: XLA's "
    "memory analysis of the compiled step (the device memory one step needs); peak RSS "
    "is the process's, cumulative over rows. The H100 column is FLOPs x steps / (0.4 x 989 "
    "TFLOP/s): compute only, at the MFU this codebase targets, not a measurement."
  )


if __name__ == "__main__":
  app.run(main)
