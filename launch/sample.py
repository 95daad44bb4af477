"""Draws samples from a workdir's newest checkpoint into a PNG grid (and an .npz).

  python -m launch.sample --workdir=workdirs/vae --num=64 [--seed=1] [--out=path.png]
"""
import os

import jax
import numpy as np
from absl import flags

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
  if experiment.sample is None:
    raise GenjaxError(f"The {config.family!r} family does not generate images.")
  restored = restore_latest(experiment, config, FLAGS.workdir)
  if restored is None:
    raise GenjaxError(f"{FLAGS.workdir} holds no checkpoint to sample from.")
  step, state = restored
  sample = jax.jit(experiment.sample, static_argnums=2)
  images = np.asarray(sample(state, jax.random.key(FLAGS.seed), FLAGS.num))
  out = FLAGS.out or os.path.join(FLAGS.workdir, "samples",
                                  f"sample_step{step}_seed{FLAGS.seed}.png")
  unit = viz.to_unit(images)
  viz.save_grid(out, unit)
  np.savez_compressed(os.path.splitext(out)[0] + ".npz", images=unit)
  print(f"{FLAGS.num} samples from step {step}: {out}", flush=True)


if __name__ == "__main__":
  common.run(main)
