"""SIGKILL at random points of a training run, each run resumed: do the final parameters
equal an uninterrupted run's, with no hand repair of the workdir?

  python benchmarks/kill_trials.py --trials=20 [--seed=0] [--data_dir=/tmp/tfds]

One uninterrupted `launch.train` run of the VAE smoke config (checkpoints every 5 steps,
evaluation and samples every 10, figures at the end) is the reference. Each trial starts
the same command on a fresh workdir, kills it with SIGKILL after a random delay drawn
from [0, the reference's wall time], then reruns the same command until it exits 0 (a
rerun that fails is counted as needing repair; the workdir is never touched by hand).
The final parameters (the whole train state) are compared bitwise with the reference's.

Printed: one row per trial with the delay, the phase the run was in when killed (from its
last line of output and whether an asynchronous save was in flight), the step the rerun
resumed from, what it found (a checkpoint set aside as corrupt) and whether the state is
equal. Not a test: it takes minutes; the closing line counts the trials that failed.
"""

import glob
import os
import random
import subprocess
import sys
import tempfile
import threading
import time

from absl import app, flags
import numpy as np

FLAGS = flags.FLAGS
flags.DEFINE_integer("trials", 20, "Number of killed-and-resumed runs.")
flags.DEFINE_integer("seed", 0, "Seed of the random kill delays.")
flags.DEFINE_string("data_dir", "", "TFDS data_dir with digits (made if absent; '' = a temp dir).")
flags.DEFINE_string("config", "experiments/configs/vae_digits.py:smoke", "Config to train.")
flags.DEFINE_bool("optimized", False, "Let XLA optimise (slower compiles; same in every run).")
flags.DEFINE_integer("max_reruns", 3, "Reruns after the kill before a trial counts as failed.")

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OVERRIDES = (
  "--config.train.num_steps=20",
  "--config.train.log_every=5",
  "--config.train.checkpoint_every=5",
  "--config.train.eval_every=10",
  "--config.train.sample_every=10",
)


def _command(workdir: str, data_dir: str) -> list:
  return [
    sys.executable,
    "-m",
    "launch.train",
    f"--config={FLAGS.config}",
    f"--workdir={workdir}",
    f"--config.data.data_dir={data_dir}",
    *OVERRIDES,
  ]


def _env() -> dict:
  env = dict(os.environ, PYTHONUNBUFFERED="1")
  env["XLA_FLAGS"] = "--xla_force_host_platform_device_count=1"
  env["JAX_DISABLE_MOST_OPTIMIZATIONS"] = "0" if FLAGS.optimized else "1"
  return env


class _Run:
  """A launch.train process whose stdout is read as it comes, so its phase is known."""

  def __init__(self, cmd):
    self.lines: list = []
    self.proc = subprocess.Popen(
      cmd,
      cwd=REPO,
      env=_env(),
      stdout=subprocess.PIPE,
      stderr=subprocess.PIPE,
      text=True,
    )
    self._err: list = []
    self._threads = [
      threading.Thread(target=self._read, args=(self.proc.stdout, self.lines), daemon=True),
      threading.Thread(target=self._read, args=(self.proc.stderr, self._err), daemon=True),
    ]
    for t in self._threads:
      t.start()

  @staticmethod
  def _read(stream, into):
    for line in stream:
      into.append(line.rstrip("\n"))

  def wait(self):
    code = self.proc.wait()
    for t in self._threads:
      t.join()
    return code

  @property
  def stderr(self) -> str:
    return "\n".join(self._err)


def _phase(lines: list, workdir: str) -> str:
  """What the run was doing when killed, as far as its output and workdir tell."""
  saving = glob.glob(os.path.join(workdir, "checkpoints", "*.orbax-checkpoint-tmp*"))
  last = lines[-1] if lines else ""
  if not lines or last.startswith(("Resuming", "Feature network")):
    what = "start-up/compile"
  elif last.startswith("Final evaluation") or "nothing to train" in last:
    what = "figures"
  elif last.startswith("step ") and "| eval/" in last:
    what = f"after eval at {last.split()[1].split('/')[0]}"
  elif last.startswith("step "):
    step = int(last.split()[1].split("/")[0])
    # at an eval step the evaluators (then samples) run after the log line
    what = f"eval/samples at {step}" if step % 10 == 0 else f"training after {step}"
  else:
    what = last[:30]
  return what + (" +save" if saving else "")


def _state(workdir: str):
  import jax  # pylint: disable=import-outside-toplevel

  import experiments  # pylint: disable=import-outside-toplevel
  from genjax.train.loop import restore_latest  # pylint: disable=import-outside-toplevel
  from launch.common import load_workdir_config  # pylint: disable=import-outside-toplevel

  config = load_workdir_config(workdir)
  step, state = restore_latest(experiments.build(config), config, workdir)
  return step, [np.asarray(x) for x in jax.tree.leaves(jax.device_get(state))]


def main(argv):
  del argv
  from launch.common import quiet_libraries  # pylint: disable=import-outside-toplevel

  quiet_libraries()
  rng = random.Random(FLAGS.seed)
  root = tempfile.mkdtemp(prefix="kill_trials_")
  data_dir = FLAGS.data_dir or os.path.join(root, "tfds")

  ref_dir = os.path.join(root, "reference")
  start = time.perf_counter()
  ref = _Run(_command(ref_dir, data_dir))
  if ref.wait() != 0:
    sys.exit(f"The uninterrupted run failed:\n{ref.stderr[-3000:]}")
  ref_seconds = time.perf_counter() - start
  ref_step, ref_state = _state(ref_dir)
  print(f"reference: step {ref_step}, {ref_seconds:.1f} s wall, workdirs in {root}", flush=True)

  header = f"{'trial':>5} {'delay s':>8} {'killed in':<28} {'resumed from':>12} {'reruns':>6} "
  header += f"{'corrupt set aside':>17} {'equal':>6}"
  print(header)
  failures = 0
  for trial in range(FLAGS.trials):
    workdir = os.path.join(root, f"trial{trial:03d}")
    delay = rng.uniform(0.0, ref_seconds)
    run = _Run(_command(workdir, data_dir))
    finished = False
    try:
      run.proc.wait(timeout=delay)
      finished = True  # ended before the kill
    except subprocess.TimeoutExpired:
      pass
    phase = _phase(list(run.lines), workdir)
    run.proc.kill()  # SIGKILL
    run.wait()
    if finished:
      phase = "(finished first)"
    resumed, reruns, ok = "-", 0, False
    for reruns in range(1, FLAGS.max_reruns + 1):
      again = _Run(_command(workdir, data_dir))
      code = again.wait()
      for line in again.lines:
        if line.startswith("Resuming"):
          resumed = line.split("from step ")[1].rstrip(".")
      if code == 0:
        ok = True
        break
      print(f"  rerun {reruns} exited {code}: {again.stderr[-500:]}", flush=True)
    corrupt_dir = os.path.join(workdir, "checkpoints_corrupt")
    corrupt = sorted(os.listdir(corrupt_dir)) if os.path.isdir(corrupt_dir) else []
    equal = False
    if ok:
      step, state = _state(workdir)
      equal = step == ref_step and all(
        a.dtype == b.dtype and a.shape == b.shape and np.array_equal(a, b, equal_nan=True)
        for a, b in zip(state, ref_state)
      )
    if finished or resumed == "-":
      resumed = resumed if resumed != "-" else "(new run)"
    failures += not (ok and equal and reruns == 1)
    print(
      f"{trial:>5} {delay:>8.1f} {phase:<28} {resumed:>12} {reruns:>6} "
      f"{','.join(corrupt) or '-':>17} {str(equal):>6}",
      flush=True,
    )
  print(f"{FLAGS.trials} trials, {failures} failed (unequal state or a rerun that did not finish).")
  sys.exit(1 if failures else 0)


if __name__ == "__main__":
  app.run(main)
