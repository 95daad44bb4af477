"""Trains a model family; rerunning the same command on the same workdir resumes it.

  python -m launch.train --config=experiments/configs/vae_digits.py --workdir=workdirs/vae
  python -m launch.train --config=experiments/configs/vae_digits.py:smoke --workdir=/tmp/w \\
      --config.optim.learning_rate=3e-4

Ends by writing the family's figures (launch.reproduce) into workdir/figures/.
"""

import signal
import sys

from absl import flags
from ml_collections import config_flags

from launch import common

FLAGS = flags.FLAGS
config_flags.DEFINE_config_file(
  "config", None, "Config file, e.g. experiments/configs/vae_digits.py[:smoke].", lock_config=True
)
flags.DEFINE_string("workdir", None, "Directory for checkpoints, logs, samples and figures.")
flags.DEFINE_bool("figures", True, "Write the family's figures when training ends.")
flags.mark_flags_as_required(["config", "workdir"])


class StopOnSigterm:
  """Turns SIGTERM (preemption, scancel, kill) into a checkpoint and a clean exit."""

  def __init__(self):
    self.requested = False
    signal.signal(signal.SIGTERM, self._handle)

  def _handle(self, signum, frame):
    del signum, frame
    self.requested = True

  def __call__(self, step: int) -> bool:
    return self.requested

  def stopped_at(self, step: int) -> None:
    # The loop stopped every process because one of them was signalled (preemption of
    # one host): each exits as the signalled one does, so a scheduler requeues the job.
    del step
    self.requested = True


def main(argv):
  del argv
  common.quiet_libraries()
  config = FLAGS.config
  common.init_distributed(config.parallel)
  # Imported after the runtime starts: jax must not pick devices before initialize().
  import experiments  # pylint: disable=import-outside-toplevel
  from experiments.feature_net import ensure_feature_net  # pylint: disable=import-outside-toplevel
  from genjax.train import preflight  # pylint: disable=import-outside-toplevel
  from genjax.train.loop import train_and_evaluate  # pylint: disable=import-outside-toplevel
  from launch import reproduce  # pylint: disable=import-outside-toplevel

  # Before the feature network, which may train for minutes, is looked for.
  preflight.check(config)
  experiment = experiments.build(config)
  feature_net = ensure_feature_net(config)
  if feature_net is not None:
    print(
      f"Feature network for eval/fd_{feature_net.name}: test accuracy {feature_net.accuracy:.4f}.",
      flush=True,
    )
  stopper = StopOnSigterm()
  metrics = train_and_evaluate(
    experiment, config, FLAGS.workdir, feature_net=feature_net, should_stop=stopper
  )
  if stopper.requested:
    print(
      "Stopped by SIGTERM after saving a checkpoint; rerun the same command to resume.", flush=True
    )
    sys.exit(128 + signal.SIGTERM)
  if metrics:
    print("Final evaluation: " + ", ".join(f"{k} {v:.4f}" for k, v in metrics.items()), flush=True)
  if FLAGS.figures:
    reproduce.make_figures(FLAGS.workdir, feature_net=feature_net)


if __name__ == "__main__":
  common.run(main)
