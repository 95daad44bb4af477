"""Sampling throughput of the DDPM family: ancestral (T steps) and DDIM at S steps.

  python benchmarks/diffusion_sampling.py [--config=ddpm_digits] [--num=100] \\
      [--steps=10,20,50,100,1000] [--workdir=workdirs/ddpm_digits]

Each sampler is one jitted lax.scan (as launch.train and the figures run it), compiled
before timing; with --workdir the trained EMA parameters are used, else fresh ones (the
speed is the same). Not a test: speeds are printed, never asserted.
"""

import launch  # noqa: F401  (first: its XLA:CPU flags and log level, launch/malloc.py)

# isort: split
import importlib
import time

from absl import app, flags, logging
import jax

import experiments
from genjax.train.loop import restore_latest

FLAGS = flags.FLAGS
flags.DEFINE_string("config", "ddpm_digits", "Config (name[:arg]) under experiments/configs.")
flags.DEFINE_integer("num", 100, "Images per sampler call.")
flags.DEFINE_list("steps", ["10", "20", "50", "100", "1000"], "DDIM step counts S.")
flags.DEFINE_string("workdir", "", "A trained workdir to take parameters from.")
flags.DEFINE_string("data_dir", "", "TFDS data_dir ('' = default).")


def _config(sampler: str, steps: int):
  name, _, arg = FLAGS.config.partition(":")
  c = importlib.import_module(f"experiments.configs.{name}").get_config(arg or None)
  c.data.data_dir = FLAGS.data_dir
  c.sample.sampler = sampler
  if sampler == "ddim":  # the ancestral sampler always takes all T steps
    c.sample.ddim_steps = min(steps, c.objective.num_timesteps)
  return c


def measure(sampler: str, steps: int, state) -> dict:
  c = _config(sampler, steps)
  experiment = experiments.build(c)
  if state is None:
    state = jax.jit(experiment.init)(jax.random.key(0))
  fn = jax.jit(experiment.sample, static_argnums=2)
  t = time.perf_counter()
  compiled = fn.lower(state, jax.random.key(1), FLAGS.num).compile()
  compile_s = time.perf_counter() - t
  t = time.perf_counter()
  jax.block_until_ready(compiled(state, jax.random.key(2)))
  seconds = time.perf_counter() - t
  return dict(
    sampler=sampler,
    steps=c.sample.ddim_steps if sampler == "ddim" else c.objective.num_timesteps,
    images_per_s=FLAGS.num / seconds,
    seconds=seconds,
    compile_s=compile_s,
  ), state


def main(argv):
  del argv
  logging.set_verbosity(logging.WARNING)
  state = None
  if FLAGS.workdir:
    c = _config("ddim", 1)
    restored = restore_latest(experiments.build(c), c, FLAGS.workdir)
    state = restored[1] if restored else None
  dev = jax.devices()[0]
  print(
    f"device: {jax.device_count()} x {dev.device_kind} ({jax.default_backend()}), "
    f"config {FLAGS.config}, {FLAGS.num} images per call"
  )
  print("| sampler | steps | images/s | seconds | compile s |")
  print("|---|---:|---:|---:|---:|")
  runs = [("ddim", int(s)) for s in FLAGS.steps] + [("ancestral", 0)]
  for sampler, steps in runs:
    r, state = measure(sampler, steps, state)
    label = "DDIM, η = 0" if sampler == "ddim" else "ancestral (DDPM)"
    print(
      f"| {label} | {r['steps']} | {r['images_per_s']:.1f} | {r['seconds']:.2f} "
      f"| {r['compile_s']:.1f} |",
      flush=True,
    )


if __name__ == "__main__":
  app.run(main)
