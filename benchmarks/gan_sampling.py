"""Sampling speed of the GAN configs: one generator pass per batch of z.

  python benchmarks/gan_sampling.py [--configs=gan_digits,dcgan_digits] [--num=1000]

Times the jitted `sample` of a freshly initialised state (the cost does not depend on
the weights). Not a test: speeds are printed, never asserted.
"""

import launch  # noqa: F401  (first: its XLA:CPU flags and log level, launch/malloc.py)

# isort: split
import importlib
import time

from absl import app, flags, logging
import jax

import experiments

FLAGS = flags.FLAGS
flags.DEFINE_list("configs", ["gan_digits", "dcgan_digits"], "Configs (name[:arg]).")
flags.DEFINE_integer("num", 1000, "Samples per timed call.")
flags.DEFINE_integer("repeats", 5, "Timed calls (after one warm-up call).")


def measure(spec: str, num: int, repeats: int) -> dict:
  name, _, arg = spec.partition(":")
  config = importlib.import_module(f"experiments.configs.{name}").get_config(arg or None)
  experiment = experiments.build(config)
  state = jax.jit(experiment.init)(jax.random.key(0))
  sample = jax.jit(experiment.sample, static_argnums=2)
  t = time.perf_counter()
  jax.block_until_ready(sample(state, jax.random.key(1), num))
  compile_s = time.perf_counter() - t
  t = time.perf_counter()
  for i in range(repeats):
    out = sample(state, jax.random.key(2 + i), num)
  jax.block_until_ready(out)
  rate = num * repeats / (time.perf_counter() - t)
  return dict(
    config=spec, shape="x".join(map(str, out.shape[1:])), samples_per_s=rate, compile_s=compile_s
  )


def main(argv):
  del argv
  logging.set_verbosity(logging.WARNING)
  dev = jax.devices()[0]
  print(
    f"device: {jax.device_count()} x {dev.device_kind} ({jax.default_backend()}), "
    f"jax {jax.__version__}, {FLAGS.num} samples per call"
  )
  print("| config | image | samples/s | compile s (incl. first call) |")
  print("|---|---|---:|---:|")
  for spec in FLAGS.configs:
    r = measure(spec, FLAGS.num, FLAGS.repeats)
    print(
      f"| {r['config']} | {r['shape']} | {r['samples_per_s']:.0f} | {r['compile_s']:.2f} |",
      flush=True,
    )


if __name__ == "__main__":
  app.run(main)
