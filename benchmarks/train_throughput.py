"""Training throughput of each family config: one table row per config.

  python benchmarks/train_throughput.py [--configs=vae_digits,vae_digits:conv] [--steps=200]

Times the loop's own jitted step (same shardings and donation as launch.train) on a
real batch from the config's pipeline; the input pipeline is timed on its own beside it.
Not a test: speeds are printed, never asserted.
"""

import importlib
import resource
import time

from absl import app, flags, logging
import jax
import numpy as np

import experiments
from genjax import data as gdata
from genjax.train import mesh as mesh_lib
from genjax.train.loop import make_step_fn

FLAGS = flags.FLAGS
flags.DEFINE_list(
  "configs",
  ["vae_digits", "vae_digits:conv", "vae_digits:latent20", "classifier_digits"],
  "Configs (name[:arg]) to measure.",
)
flags.DEFINE_integer("steps", 200, "Timed steps per config (after one warm-up step).")
flags.DEFINE_string("data_dir", "", "TFDS data_dir ('' = default).")
flags.DEFINE_string("compute_dtype", "", "Override train.compute_dtype (float32|bfloat16).")


def _config(spec: str):
  name, _, arg = spec.partition(":")
  c = importlib.import_module(f"experiments.configs.{name}").get_config(arg or None)
  c.data.data_dir = FLAGS.data_dir
  if FLAGS.compute_dtype:
    c.train.compute_dtype = FLAGS.compute_dtype
  return c


def _peak_memory_mb() -> float:
  stats = jax.devices()[0].memory_stats() or {}
  if "peak_bytes_in_use" in stats:
    return stats["peak_bytes_in_use"] / 2**20
  return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**10  # host RSS, in KiB


def measure(spec: str, steps: int) -> dict:
  config = _config(spec)
  mesh = mesh_lib.make_mesh()
  experiment = experiments.build(config)
  it = gdata.make_train_iterator(
    config.data, seed=0, process_index=jax.process_index(), process_count=jax.process_count()
  )
  t = time.perf_counter()
  for _ in range(50):
    next(it)
  input_rate = 50 / (time.perf_counter() - t)
  batch = mesh_lib.global_batch(next(it), mesh)
  state = jax.jit(experiment.init, out_shardings=mesh_lib.replicated(mesh))(jax.random.key(0))
  step_fn = make_step_fn(experiment, mesh, jax.random.key(1))
  t = time.perf_counter()
  compiled = step_fn.lower(state, batch, np.int32(0)).compile()
  compile_s = time.perf_counter() - t
  state, _ = compiled(state, batch, np.int32(0))
  jax.block_until_ready(state)
  t = time.perf_counter()
  for i in range(steps):
    state, metrics = compiled(state, batch, np.int32(i + 1))
  jax.block_until_ready((state, metrics))
  rate = steps / (time.perf_counter() - t)
  return dict(
    config=spec,
    batch=config.data.batch_size,
    steps_per_s=rate,
    images_per_s=rate * config.data.batch_size,
    compile_s=compile_s,
    input_batches_per_s=input_rate,
    peak_mb=_peak_memory_mb(),
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
  print("| config | batch | steps/s | images/s | compile s | input batches/s | peak MiB |")
  print("|---|---:|---:|---:|---:|---:|---:|")
  for spec in FLAGS.configs:
    r = measure(spec, FLAGS.steps)
    print(
      f"| {r['config']} | {r['batch']} | {r['steps_per_s']:.1f} | {r['images_per_s']:.0f} "
      f"| {r['compile_s']:.2f} | {r['input_batches_per_s']:.0f} | {r['peak_mb']:.0f} |",
      flush=True,
    )
  print(
    "peak MiB: device peak_bytes_in_use where the backend reports it, else the "
    "process's peak RSS (cumulative over rows)."
  )


if __name__ == "__main__":
  app.run(main)
