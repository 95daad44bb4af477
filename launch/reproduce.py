"""Runs a trained workdir's evaluators (config.evals, including those marked for
finished workdirs only) on the newest checkpoint into figures/evaluation.json (the
loop's evaluators and code path), then writes its figures into workdir/figures/; a
figure that shows a reported number (DDPM's steps_vs_quality.md) reads it from there.

  python -m launch.reproduce --workdir=workdirs/vae
  python -m launch.reproduce --workdir=workdirs/vae --evaluate=false   # figures only
"""

import os

from absl import flags
import jax

from launch import common

FLAGS = flags.FLAGS
if __name__ == "__main__":
  flags.DEFINE_string("workdir", None, "A workdir written by launch.train.")
  flags.DEFINE_bool("evaluate", True, "Also run the config's evaluators on the checkpoint.")
  flags.mark_flags_as_required(["workdir"])


def make_figures(workdir: str, feature_net=None, evaluation=None) -> list:
  """The family's figures of the newest checkpoint. `feature_net` is the classifier the
  entry point resolved (None: the figures that need it are left out); nothing here
  trains one. `evaluation`: the evaluators' results on that checkpoint, for the figures
  that show them (None: those are left out)."""
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
  ctx = FigureContext(
    config=config,
    workdir=workdir,
    figures_dir=os.path.join(workdir, "figures"),
    step=step,
    key=jax.random.key(config.seed + 1),
    feature_net=feature_net,
    evaluation=evaluation,
  )
  os.makedirs(ctx.figures_dir, exist_ok=True)
  paths = experiment.figures(state, ctx) or []
  if jax.process_index() == 0:
    print(
      f"Figures of step {step}: " + ", ".join(os.path.basename(p) for p in paths),
      f"in {ctx.figures_dir}",
      flush=True,
    )
  return paths


def main(argv):
  del argv
  common.quiet_libraries()
  from experiments.feature_net import ensure_feature_net  # pylint: disable=import-outside-toplevel

  # Resolved here, once, as launch.train does: trained first if this data dir lacks it.
  config = common.load_workdir_config(FLAGS.workdir)
  feature_net = ensure_feature_net(config)
  evaluation = evaluate(FLAGS.workdir, config, feature_net) if FLAGS.evaluate else None
  make_figures(FLAGS.workdir, feature_net=feature_net, evaluation=evaluation)


def evaluate(workdir: str, config, feature_net) -> dict:
  import json  # pylint: disable=import-outside-toplevel

  import experiments  # pylint: disable=import-outside-toplevel
  from genjax.train.loop import evaluate_checkpoint  # pylint: disable=import-outside-toplevel

  step, metrics = evaluate_checkpoint(
    experiments.build(config), config, workdir, feature_net=feature_net
  )
  if jax.process_index() == 0 and metrics:
    path = os.path.join(workdir, "figures", "evaluation.json")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
      json.dump({"step": step, **{k: float(v) for k, v in metrics.items()}}, f, indent=2)
    print(
      f"Evaluation of step {step}: " + ", ".join(f"{k} {v:.4f}" for k, v in metrics.items()),
      flush=True,
    )
  return metrics


if __name__ == "__main__":
  common.run(main)
