"""Training throughput of each family config: one table row per config.

  python benchmarks/train_throughput.py [--configs=vae_digits,vae_digits:conv] [--steps=200]

Times the loop's own jitted step (same shardings and donation as launch.train) on a
real batch from the config's pipeline; the input pipeline is timed on its own beside it.
Also: the step's model FLOPs (its products and convolutions, counted from its jaxpr:
genjax/train/flops.py) beside XLA's cost analysis of the compiled one-step program, the
FLOP/s achieved, MFU against the chip's dense bf16 peak on an accelerator, and steps/s
with k steps per jitted call (train.steps_per_dispatch) for each k of --dispatch, the
best of them reported. Not a test: speeds are printed, never asserted.
"""

import launch  # noqa: F401  (first: its XLA:CPU flags and log level, launch/malloc.py)

# isort: split
import time

from absl import app, flags, logging
import jax
from loop_step import (
  build,
  compile_step,
  load_config,
  model_flops,
  stacked_batch,
  step_bytes,
  step_timer,
)

from genjax import data as gdata
from genjax.train import flops as flops_lib
from genjax.train import mesh as mesh_lib

FLAGS = flags.FLAGS
flags.DEFINE_list(
  "configs",
  ["vae_digits", "vae_digits:conv", "vae_digits:latent20", "classifier_digits"],
  "Configs (name[:arg]) to measure.",
)
flags.DEFINE_integer("steps", 200, "Timed steps per config and k (after 3 warm-up calls).")
flags.DEFINE_string("data_dir", "", "TFDS data_dir ('' = default).")
flags.DEFINE_string("compute_dtype", "", "Override train.compute_dtype (float32|bfloat16).")
flags.DEFINE_list("dispatch", ["4", "16"], "Steps per jitted call to try beside 1.")
WARMUP_CALLS = 3


def measure(spec: str, steps: int) -> dict:
  config = load_config(spec, FLAGS.data_dir, FLAGS.compute_dtype)
  experiment, mesh, state = build(config)
  it = gdata.make_train_iterator(
    config.data, seed=0, process_index=jax.process_index(), process_count=jax.process_count()
  )
  t = time.perf_counter()
  for _ in range(50):
    next(it)
  input_rate = 50 / (time.perf_counter() - t)
  batch = mesh_lib.global_batch(next(it), mesh)
  compiled, compile_s = compile_step(experiment, mesh, state, batch)
  # A few calls first, as for every k below: on XLA:CPU the first calls also fill each
  # thread's malloc heap (launch/malloc.py), which would count against one step per call.
  run = step_timer(compiled, state, batch, 1, WARMUP_CALLS)
  rate = 1 / run(steps)
  state = run.state()
  step_flops = model_flops(experiment, mesh, state, batch)
  xla_flops = flops_lib.compiled_flops(compiled)
  peak = flops_lib.peak_flops(jax.devices()[0].device_kind)
  best_k, best_rate = 1, rate
  host = jax.device_get(batch)
  for k in (int(k) for k in FLAGS.dispatch):
    stacked = stacked_batch(host, mesh, k)
    multi, _ = compile_step(experiment, mesh, state, stacked, k)
    run = step_timer(multi, state, stacked, k, WARMUP_CALLS)
    k_rate = 1 / run(steps)
    state = run.state()
    if k_rate > best_rate:
      best_k, best_rate = k, k_rate
  return dict(
    config=spec,
    batch=config.data.batch_size,
    steps_per_s=rate,
    images_per_s=rate * config.data.batch_size,
    compile_s=compile_s,
    input_batches_per_s=input_rate,
    step_mib=step_bytes(compiled) / 2**20,
    gflop_per_step=step_flops / 1e9,
    xla_gflop_per_step=xla_flops / 1e9,
    gflop_per_s=step_flops * rate / 1e9,
    mfu=step_flops * rate / peak if peak else None,
    best_k=best_k,
    best_k_steps_per_s=best_rate,
  )


def main(argv):
  del argv
  logging.set_verbosity(logging.WARNING)
  dev = jax.devices()[0]
  print(
    f"device: {jax.device_count()} x {dev.device_kind} ({jax.default_backend()}), "
    f"jax {jax.__version__}, compute dtype "
    f"{FLAGS.compute_dtype or 'config default'}"
  )
  print(
    "| config | batch | steps/s | images/s | GFLOP/step | XLA's GFLOP/step | GFLOP/s | MFU "
    "| best k: steps/s "
    "| compile s | input batches/s | step MiB |"
  )
  print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
  for spec in FLAGS.configs:
    r = measure(spec, FLAGS.steps)
    mfu = f"{100 * r['mfu']:.1f} %" if r["mfu"] is not None else "—"
    print(
      f"| {r['config']} | {r['batch']} | {r['steps_per_s']:.1f} | {r['images_per_s']:.0f} "
      f"| {r['gflop_per_step']:.3f} | {r['xla_gflop_per_step']:.3f} "
      f"| {r['gflop_per_s']:.1f} | {mfu} "
      f"| {r['best_k']}: {r['best_k_steps_per_s']:.1f} "
      f"| {r['compile_s']:.2f} | {r['input_batches_per_s']:.0f} | {r['step_mib']:.0f} |",
      flush=True,
    )
  print(
    "GFLOP/step: the one-step program's products and convolutions (its jaxpr, the same on "
    "every backend); GFLOP/s and MFU (against the chip's dense bf16 peak, accelerators "
    "only) are taken from it. XLA's GFLOP/step: the backend's cost analysis of the "
    "compiled step, elementwise work included (XLA:GPU's undercounts: "
    "genjax/train/flops.py). "
    "best k: the steps per jitted call, of 1 and "
    "--dispatch, with the most steps/s. step MiB: XLA's memory analysis of the compiled "
    "one-step program (arguments, outputs and temporaries, less donated buffers reused): "
    "the device memory one step needs, on every backend."
  )


if __name__ == "__main__":
  app.run(main)
