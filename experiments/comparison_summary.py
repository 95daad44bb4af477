"""The comparison's runs summarised: each run's quality curve, their mean over seeds, and
a family's metrics over seeds (mean, standard deviation, runs that diverged or
collapsed), from the records experiments/comparison.py measured."""

import numpy as np

from experiments.comparison import COLLAPSED_BELOW_CLASSES, FEATURE_NET
from genjax.train.writers import read_metrics


def quality_curve(rundir: str, record: dict) -> list:
  """[{step, train_seconds, fd, fd_floor, final}] of one run, in step order: the periodic
  sample-quality evaluations in its metrics.jsonl at the training seconds logged at their
  step, and the run's final measurement (`final`; a run trained before the periodic
  evaluations has only that)."""
  fd, floor = f"eval/fd_{FEATURE_NET}", f"eval/fd_{FEATURE_NET}_floor"
  rows = read_metrics(rundir)
  seconds = {r["step"]: r["train/seconds"] for r in rows if "train/seconds" in r}
  points = {
    r["step"]: dict(step=r["step"], train_seconds=seconds[r["step"]], fd=r[fd], fd_floor=r[floor])
    for r in rows
    if fd in r and r["step"] in seconds
  }
  m = record.get("metrics", {})
  if record.get("finished") and fd in m:
    end = dict(step=record["step"], train_seconds=record["train_seconds"], fd=m[fd])
    points[record["step"]] = dict(points.get(record["step"], end), fd_floor=m.get(floor))
    points[record["step"]]["final"] = True
  return [points[s] for s in sorted(points)]


def mean_curve(curves: list) -> list:
  """Per-seed curves -> [{train_seconds, fd, fd_sd, seeds}]: the i-th periodic point of
  every seed together (budget / QUALITY_CURVE_POINTS apart, they follow the same multiple
  of it), and the final points together, last; mean over seeds of the seconds and of the
  Fréchet distance, and its standard deviation over seeds (NaN for one seed)."""
  groups: dict = {}
  for curve in curves:
    periodic = [p for p in curve if not p.get("final")]
    for i, p in enumerate(periodic):
      groups.setdefault((0, i), []).append(p)
    for p in curve:
      if p.get("final"):
        groups.setdefault((1, 0), []).append(p)
  out = []
  for key in sorted(groups):
    xs = [p["train_seconds"] for p in groups[key]]
    ys = [p["fd"] for p in groups[key]]
    out.append(
      dict(
        train_seconds=float(np.mean(xs)),
        fd=float(np.mean(ys)),
        fd_sd=float(np.std(ys, ddof=1)) if len(ys) > 1 else float("nan"),
        seeds=len(ys),
      )
    )
  return out


def summarise(records: list) -> dict:
  """One family's runs (one per seed) -> mean, and standard deviation over seeds, of each
  metric; how many runs diverged, and how many collapsed onto few classes."""
  done = [r for r in records if not r.get("diverged")]
  collapsed = [
    r["seed"]
    for r in done
    if r["metrics"].get("eval/classes_covered", COLLAPSED_BELOW_CLASSES) < COLLAPSED_BELOW_CLASSES
  ]
  out = {
    "runs": len(records),
    "diverged": len(records) - len(done),
    "diverged_seeds": [r.get("seed") for r in records if r.get("diverged")],
    "collapsed_seeds": collapsed,
    "mean": {},
    "sd": {},
  }
  top = {"train_steps_per_sec", "train_seconds", "step"}
  keys = sorted({k for r in done for k in r["metrics"]} | top)
  for k in keys:
    vals = [r["metrics"].get(k, r.get(k)) for r in done]
    vals = [float(v) for v in vals if isinstance(v, (int, float))]
    if vals:
      out["mean"][k] = float(np.mean(vals))
      out["sd"][k] = float(np.std(vals, ddof=1)) if len(vals) > 1 else float("nan")
  return out
