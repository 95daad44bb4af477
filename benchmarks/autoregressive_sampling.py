"""Sampling speed of the autoregressive models: the naive sampler (one full forward pass
per sub-pixel) against the fast one (only what the next pixel can change), per model.

  python benchmarks/autoregressive_sampling.py [--configs=pixelcnn_digits,...] [--num=16]

Both run jitted on random parameters of each config's model (speed does not depend on
the weights), after a compile call; the table also says whether the two gave the same
samples for the same key. Not a test: speeds are printed, never asserted.
"""

import launch  # noqa: F401  (first: its XLA:CPU flags and log level, launch/malloc.py)

# isort: split
import importlib
import time

from absl import app, flags, logging
import jax
import numpy as np

from experiments import autoregressive
from genjax import data as gdata

FLAGS = flags.FLAGS
flags.DEFINE_list(
  "configs",
  ["pixelcnn_digits", "gated_pixelcnn_digits", "row_lstm_digits", "diagonal_bilstm_digits"],
  "Configs (name[:arg]) to measure.",
)
flags.DEFINE_integer("num", 16, "Samples drawn per call.")
flags.DEFINE_integer("repeats", 1, "Timed calls per sampler (the best is kept).")
flags.DEFINE_string("data_dir", "", "TFDS data_dir ('' = default), for the image shape.")


def _time(fn, *args):
  out = jax.block_until_ready(fn(*args))  # compile
  best = float("inf")
  for _ in range(FLAGS.repeats):
    t = time.perf_counter()
    out = jax.block_until_ready(fn(*args))
    best = min(best, time.perf_counter() - t)
  return best, np.asarray(out)


def measure(spec: str) -> dict:
  name, _, arg = spec.partition(":")
  config = importlib.import_module(f"experiments.configs.{name}").get_config(arg or None)
  config.data.data_dir = FLAGS.data_dir
  shape = tuple(gdata.image_shape(config.data))
  model = autoregressive.build_model(config, shape)
  label = (
    jax.numpy.arange(FLAGS.num) % config.model.num_classes if config.model.conditional else None
  )
  x = jax.numpy.zeros((1,) + shape)
  params = model.init(jax.random.key(0), x, None if label is None else label[:1])["params"]
  samplers = autoregressive.make_samplers(model, shape, autoregressive.make_dist(config.model))
  row = {"config": spec, "image": "x".join(map(str, shape))}
  outs = {}
  for kind in ("naive", "fast"):
    fn = jax.jit(lambda p, k, s=samplers[kind]: s(p, k, FLAGS.num, label=label))
    seconds, outs[kind] = _time(fn, params, jax.random.key(1))
    row[kind] = FLAGS.num / seconds
  row["ratio"] = row["fast"] / row["naive"]
  row["same"] = bool(np.array_equal(outs["naive"], outs["fast"]))
  return row


def main(argv):
  del argv
  logging.set_verbosity(logging.ERROR)
  rows = [measure(spec) for spec in FLAGS.configs]
  print(
    f"{'config':28s} {'image':8s} {'naive samples/s':>16s} {'fast samples/s':>15s} "
    f"{'fast/naive':>10s} {'same samples':>12s}"
  )
  for r in rows:
    print(
      f"{r['config']:28s} {r['image']:8s} {r['naive']:16.3f} {r['fast']:15.2f} "
      f"{r['ratio']:10.1f} {str(r['same']):>12s}"
    )
  print(
    f"({FLAGS.num} samples per call, {jax.devices()[0].platform}, {jax.device_count()} device(s))"
  )


if __name__ == "__main__":
  app.run(main)
