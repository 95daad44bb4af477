"""Metric writers: TensorBoard event files, metrics.jsonl and a console line.

Only process 0 writes; the others get a writer that does nothing, so callers need not
ask which process they are.
"""

import json
import os
import sys
import time

import numpy as np


class MetricWriter:
  def __init__(self, workdir: str, *, enabled: bool = True, resume_step: int | None = None):
    """`resume_step`: the step a run restarts from; what an interrupted run logged after
    it is dropped (metrics.jsonl) or purged (TensorBoard), since it will be logged again."""
    self.enabled = enabled
    self._tb = None
    self._jsonl = None
    if enabled:
      from tensorboardX import SummaryWriter  # pylint: disable=import-outside-toplevel

      os.makedirs(workdir, exist_ok=True)
      path = os.path.join(workdir, "metrics.jsonl")
      purge = None
      if resume_step is not None:
        _drop_after(path, resume_step)
        purge = resume_step + 1
      self._tb = SummaryWriter(os.path.join(workdir, "tensorboard"), purge_step=purge)
      self._jsonl = open(path, "a", encoding="utf-8")

  def scalars(self, step: int, metrics: dict) -> None:
    if not self.enabled:
      return
    clean = {k: float(v) for k, v in metrics.items()}
    for k, v in clean.items():
      self._tb.add_scalar(k, v, step)
    self._jsonl.write(json.dumps({"step": int(step), **clean}) + "\n")
    self._jsonl.flush()
    self._tb.flush()

  def image(self, step: int, tag: str, grid: np.ndarray) -> None:
    """`grid` is one HWC image in [0, 1]."""
    if self.enabled:
      self._tb.add_image(tag, np.asarray(grid), step, dataformats="HWC")
      self._tb.flush()

  def close(self) -> None:
    if self.enabled:
      self._tb.close()
      self._jsonl.close()


def _drop_after(path: str, step: int) -> None:
  """Rewrites metrics.jsonl without its records after `step` (atomically)."""
  if not os.path.exists(path):
    return
  with open(path, encoding="utf-8") as f:
    lines = [line for line in f if line.strip()]
  kept = [line for line in lines if _step_of(line) <= step]
  if len(kept) == len(lines):
    return
  tmp = path + ".tmp"
  with open(tmp, "w", encoding="utf-8") as f:
    f.writelines(kept)
  os.replace(tmp, path)


def _step_of(line: str) -> float:
  try:
    return json.loads(line).get("step", 0)
  except json.JSONDecodeError:  # a line torn by the crash: logged again after resume
    return float("inf")


def read_metrics(workdir: str) -> list[dict]:
  """Every record of workdir/metrics.jsonl; a resumed run's records follow the first's."""
  path = os.path.join(workdir, "metrics.jsonl")
  if not os.path.exists(path):
    return []
  with open(path, encoding="utf-8") as f:
    return [json.loads(line) for line in f if line.strip()]


def logged(workdir: str, step: int, names) -> bool:
  """Whether workdir/metrics.jsonl has every metric in `names` at `step`."""
  found = set()
  for record in read_metrics(workdir):
    if record.get("step") == step:
      found.update(record)
  return set(names) <= found


def evaluated(workdir: str, step: int) -> bool:
  """Whether workdir/metrics.jsonl has an evaluation's record at `step`: one with an
  "eval/" metric, as every evaluator returns (the loop logs a step's evaluations in one
  record, once they have all run)."""
  return any(
    record.get("step") == step and any(k.startswith("eval/") for k in record)
    for record in read_metrics(workdir)
  )


class Progress:
  """`step 500/5000 | train/loss 103.2 | 212.4 steps/s | ETA 0:00:21` on stdout."""

  def __init__(self, first_step: int, num_steps: int, *, enabled: bool = True, seconds_left=None):
    """`seconds_left()`: what remains of a time budget, which bounds the ETA."""
    self.enabled = enabled
    self.num_steps = num_steps
    self._seconds_left = seconds_left
    self._t0, self._s0 = time.perf_counter(), first_step

  def restart_clock(self, step: int) -> None:
    self._t0, self._s0 = time.perf_counter(), step

  def steps_per_second(self, step: int) -> float:
    dt = time.perf_counter() - self._t0
    return (step - self._s0) / dt if dt > 0 else float("nan")

  def line(self, step: int, metrics: dict, *, timing: bool = True) -> str:
    shown = " | ".join(
      f"{k} {v:.4g}"
      for k, v in metrics.items()
      if k.startswith(("train/", "eval/")) and k not in ("train/steps_per_sec", "train/seconds")
    )
    text = f"step {step}/{self.num_steps} | {shown}"
    if not timing:
      return text
    rate = self.steps_per_second(step)
    eta = (self.num_steps - step) / rate if rate > 0 else float("nan")
    if self._seconds_left is not None:
      eta = max(0.0, min(eta, self._seconds_left()))
    eta_s = time.strftime("%H:%M:%S", time.gmtime(eta)) if np.isfinite(eta) else "?"
    return f"{text} | {rate:.1f} steps/s | ETA {eta_s}"

  def print(self, step: int, metrics: dict, *, timing: bool = True) -> None:
    if self.enabled:
      print(self.line(step, metrics, timing=timing), file=sys.stdout, flush=True)
