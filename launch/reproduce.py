"""Writes a trained workdir's figures into workdir/figures/.

  python -m launch.reproduce --workdir=workdirs/vae
"""
import os

import jax
from absl import flags

from launch import common

FLAGS = flags.FLAGS
if __name__ == "__main__":
  flags.DEFINE_string("workdir", None, "A workdir written by launch.train.")
  flags.mark_flags_as_required(["workdir"])


def make_figures(workdir: str, feature_net=None) -> list:
  import experiments  # pylint: disable=import-outside-toplevel
  from genjax.errors import GenjaxError  # pylint: disable=import-outside-toplevel
  from genjax.train.experiment import FigureContext  # pylint: disable=import-outside-toplevel
  from genjax.train.loop import restore_latest  # pylint: disable=import-outside-toplevel

  config = common.load_workdir_config(workdir)
  experiment = experiments.build(config)
  if experiment.figures is None:
    return []
  restored = restore_latest(experiment, config, workdir)
  if restored is None:
    raise GenjaxError(f"{workdir} holds no checkpoint to make figures from.")
  step, state = restored
  ctx = FigureContext(config=config, workdir=workdir,
                      figures_dir=os.path.join(workdir, "figures"), step=step,
                      key=jax.random.key(config.seed + 1), feature_net=feature_net)
  os.makedirs(ctx.figures_dir, exist_ok=True)
  paths = experiment.figures(state, ctx) or []
  if jax.process_index() == 0:
    print(f"Figures of step {step}: " + ", ".join(os.path.basename(p) for p in paths),
          f"in {ctx.figures_dir}", flush=True)
  return paths


def main(argv):
  del argv
  common.quiet_libraries()
  make_figures(FLAGS.workdir)


if __name__ == "__main__":
  common.run(main)
