"""Draws samples from a workdir's newest checkpoint into a PNG grid (and an .npz).

  python -m launch.sample --workdir=workdirs/vae --num=64 [--seed=1] [--out=path.png]

A conditional family (CycleGAN) has no unconditional sampler: it is given the first
--num images of the config's eval split and its rows of outputs (translations) are saved.
"""

import os

from absl import flags
import jax
import numpy as np

from launch import common

FLAGS = flags.FLAGS
flags.DEFINE_string("workdir", None, "A workdir written by launch.train.")
flags.DEFINE_integer("num", 64, "Number of samples.")
flags.DEFINE_integer("seed", 0, "Sampling seed.")
flags.DEFINE_string("out", "", "Output PNG; default workdir/samples/sample_step<N>_seed<S>.png.")
flags.mark_flags_as_required(["workdir"])


def main(argv):
  del argv
  common.quiet_libraries()
  import experiments  # pylint: disable=import-outside-toplevel
  from genjax import viz  # pylint: disable=import-outside-toplevel
  from genjax.errors import GenjaxError  # pylint: disable=import-outside-toplevel
  from genjax.train.loop import restore_latest  # pylint: disable=import-outside-toplevel

  if FLAGS.num <= 0:
    raise GenjaxError(f"--num must be positive, not {FLAGS.num}.")
  config = common.load_workdir_config(FLAGS.workdir)
  experiment = experiments.build(config)
  if experiment.sample is None and experiment.sample_given is None:
    raise GenjaxError(f"The {config.family!r} family does not generate images.")
  restored = restore_latest(experiment, config, FLAGS.workdir)
  if restored is None:
    raise GenjaxError(f"{FLAGS.workdir} holds no checkpoint to sample from.")
  step, state = restored
  key = jax.random.key(FLAGS.seed)
  out = FLAGS.out or os.path.join(
    FLAGS.workdir, "samples", f"sample_step{step}_seed{FLAGS.seed}.png"
  )
  if experiment.sample is not None:
    sample = jax.jit(experiment.sample, static_argnums=2)
    unit = viz.to_unit(np.asarray(sample(state, key, FLAGS.num)))
    viz.save_grid(out, unit)
  else:
    unit = viz.to_unit(_given_test_images(experiment, state, config, key, FLAGS.num))
    viz.save_rows(out, list(unit))
  np.savez_compressed(os.path.splitext(out)[0] + ".npz", images=unit)
  print(f"{FLAGS.num} samples from step {step}: {out}", flush=True)


def _given_test_images(experiment, state, config, key, num: int) -> np.ndarray:
  """The conditional sampler's outputs for the first `num` images of the eval split."""
  from genjax import data as gdata  # pylint: disable=import-outside-toplevel

  given = jax.jit(experiment.sample_given)
  outputs = []
  for i, batch in enumerate(
    gdata.iterate_eval(config.data, config.eval.split, seed=config.seed, max_examples=num)
  ):
    real = int(batch.pop("mask").sum())
    outputs.append(
      np.asarray(given(state, {k: v[:real] for k, v in batch.items()}, jax.random.fold_in(key, i)))
    )
  return np.concatenate(outputs, axis=1)  # [rows, num, H, W, C]


if __name__ == "__main__":
  common.run(main)
