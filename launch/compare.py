"""Trains every generative family under one protocol and compares them: report.md,
results.json and figures/ in the workdir. Rerunning the same command resumes: a run that
is trained and measured is read back, an interrupted one continues from its checkpoint.

  # 3 seeds of every family at 90 s of training each: about 95 min on one CPU core
  taskset -c 0 python -m launch.compare --workdir=workdirs/compare
  python -m launch.compare --workdir=/tmp/compare --smoke          # seconds per family
  python -m launch.compare --workdir=workdirs/compare --only=gan,dcgan --budget_s=600
  taskset -c 0 python -m launch.compare --workdir=workdirs/compare --sweep  # what was tried

The protocol is in experiments/comparison.py and at the end of every report.
"""

import os
import sys
import time

from absl import flags

from launch import common

FLAGS = flags.FLAGS
flags.DEFINE_string(
  "workdir",
  None,
  "Directory of the comparison: one subdirectory per "
  "family (and seed), report.md, results.json, figures/.",
)
flags.DEFINE_bool(
  "smoke",
  False,
  "Each family's :smoke config: checks the pipeline in "
  "seconds per family; its numbers are not results.",
)
flags.DEFINE_integer(
  "seeds", 3, "Runs per family (seeds 0..N-1); N > 1 reports the standard deviation over seeds."
)
flags.DEFINE_float(
  "budget_s",
  None,
  "Seconds of training per run, equal for every family (default: 90, or 2 with --smoke). "
  "A workdir's runs keep the budget they were trained with; use a new workdir to change it.",
)
flags.DEFINE_bool(
  "sweep",
  False,
  "Instead of the comparison, its recorded sweep: each tuned family once more with its "
  "learning rate and its width halved and doubled (seed 0, the same budget); writes "
  "sweep.md, which report.md links.",
)
flags.DEFINE_string("only", "", "Comma-separated families to include (default: all).")
flags.DEFINE_string("data_dir", "", "TFDS data directory ('' = TFDS's default).")
flags.mark_flags_as_required(["workdir"])

SAMPLES_PER_ROW = 16


def _time_left(todo, took: list, *, budget_s: float) -> str:
  """Wall time the runs still to do will take: each as long as its entry's runs took in
  this invocation, else as the runs of its kind (training or only evaluating), else,
  before any, twice the budget for a run that trains (compiling, evaluating and saving
  add about as much again) and a third of it for one that evaluates."""

  def mean(times, default):
    return sum(times) / len(times) if times else default

  def guess(e):
    kind = mean(
      [t for f, t in took if bool(f.of) == bool(e.of)], budget_s / 3 if e.of else 2 * budget_s
    )
    return mean([t for f, t in took if f.name == e.name], kind)

  minutes = sum(guess(e) for _, e in todo) / 60
  return f"about {minutes:.0f} min left" if minutes >= 1 else "under a minute left"


def main(argv):
  del argv
  common.quiet_libraries()
  import experiments  # pylint: disable=import-outside-toplevel
  from experiments import (
    comparison,  # pylint: disable=import-outside-toplevel
    comparison_report,  # pylint: disable=import-outside-toplevel
    comparison_summary,  # pylint: disable=import-outside-toplevel
  )
  from experiments.feature_net import ensure_feature_net  # pylint: disable=import-outside-toplevel
  from genjax.errors import ConfigError  # pylint: disable=import-outside-toplevel

  if FLAGS.seeds < 1:
    raise ConfigError(f"--seeds must be at least 1, not {FLAGS.seeds}.")
  if FLAGS.budget_s is not None and not FLAGS.budget_s > 0:
    raise ConfigError(f"--budget_s must be a positive number of seconds, not {FLAGS.budget_s}.")
  chosen = comparison.entries(FLAGS.only)
  configs = {
    (e.name, s): comparison.config_for(
      e, smoke=FLAGS.smoke, seed=s, data_dir=FLAGS.data_dir, budget_s=FLAGS.budget_s
    )
    for e in chosen
    for s in range(FLAGS.seeds)
  }
  for config in configs.values():  # every config is checked before anything trains
    experiments.build(config)
  feature_net = ensure_feature_net(next(iter(configs.values())))
  if feature_net is None:
    raise ConfigError("the comparison needs the digit classifier (eval.feature_net).")

  if FLAGS.sweep:
    from experiments import comparison_sweep  # pylint: disable=import-outside-toplevel

    comparison_sweep.run(
      FLAGS.workdir,
      chosen,
      feature_net,
      smoke=FLAGS.smoke,
      data_dir=FLAGS.data_dir,
      budget_s=FLAGS.budget_s,
    )
    with open(os.path.join(FLAGS.workdir, "sweep.md"), encoding="utf-8") as f:
      print(f.read(), flush=True)
    return
  rundir = lambda e, s: comparison.run_dir(FLAGS.workdir, e, s)
  # Seed-major: an interrupted comparison already holds one run of every family.
  records_of = {e.name: [] for e in chosen}
  plan = [(s, e) for s in range(FLAGS.seeds) for e in chosen]
  took = []  # (entry, wall seconds) of each run this invocation trained or measured
  for i, (s, e) in enumerate(plan):
    todo = [(t, f) for t, f in plan[i:] if not comparison.is_measured(f, rundir(f, t))]
    left = _time_left(todo, took, budget_s=configs[(e.name, s)].train.time_budget_s)
    print(f"== {e.name}, seed {s}: {e.model} ({e.config}); run {i + 1} of {len(plan)}, {left}")
    sys.stdout.flush()
    trained = records_of[e.of][s] if e.of else None
    start = time.perf_counter()
    record = comparison.train_and_measure(
      e, configs[(e.name, s)], rundir(e, s), feature_net, trained
    )
    if time.perf_counter() - start > 1.0:  # a finished run read back costs nothing
      took.append((e, time.perf_counter() - start))
    if record.get("diverged"):
      print(f"   diverged: {record['diverged']}", flush=True)
    records_of[e.name].append(record)
  summaries, speeds, samples = {}, {}, {}
  curves = {  # quality while training: the rows that train (the others share their runs)
    e.name: [
      comparison_summary.quality_curve(rundir(e, s), r)
      for s, r in enumerate(records_of[e.name])
      if not r.get("diverged")
    ]
    for e in chosen
    if not e.of
  }
  for e in chosen:
    summaries[e.name] = comparison_summary.summarise(records_of[e.name])
    decay = configs[(e.name, 0)].train.ema_decay
    summaries[e.name]["parameters"] = f"EMA, decay {decay:g}" if decay else "raw (no EMA)"

  print("== sampling speed, every family now, side by side", flush=True)
  for e in chosen:
    trained = [s for s, r in enumerate(records_of[e.name]) if not r.get("diverged")]
    if trained:
      config, where = configs[(e.name, trained[0])], rundir(e, trained[0])
      speeds[e.name] = comparison.sampling_speed(config, where)
      samples[e.name] = comparison.draw(config, where, SAMPLES_PER_ROW)

  command = "python -m launch.compare " + " ".join(sys.argv[1:])
  paths = comparison_report.write(
    FLAGS.workdir,
    summaries,
    speeds,
    samples,
    command=command,
    smoke=FLAGS.smoke,
    num_seeds=FLAGS.seeds,
    budget_s=configs[(chosen[0].name, 0)].train.time_budget_s,
    feature_net=feature_net,
    curves=curves,
  )
  with open(os.path.join(FLAGS.workdir, "report.md"), encoding="utf-8") as f:
    print(f.read(), flush=True)
  print(
    "Wrote " + ", ".join(os.path.relpath(p, FLAGS.workdir) for p in paths) + f" in {FLAGS.workdir}",
    flush=True,
  )


if __name__ == "__main__":
  common.run(main)
