"""The seconds a run has spent training, summed over its resumes: what `train.time_budget_s`
limits, so that runs compared at an equal budget get equal time however often they were
interrupted.

Counted: the training steps after the first (whose time is XLA compiling it). Not counted:
evaluation, sample grids and checkpoint saves, which the loop wraps in `excluding()`. The
count at each checkpointed step is kept in workdir/train_seconds.json (written by process
0 beside the checkpoints), so a resumed run starts from the count of the step it resumes;
the count at every log step is in metrics.jsonl as train/seconds (the largest over the
processes where a budget or an evaluator's every_s is read from it).
"""

import contextlib
import json
import os
import time

FILE = "train_seconds.json"


def seconds_at(workdir: str, step: int) -> float:
  """The training seconds recorded at `step`, or at the newest recorded step before it
  (a run killed between a checkpoint and its record), 0 for a new run."""
  path = os.path.join(workdir, FILE)
  try:
    with open(path, encoding="utf-8") as f:
      record = {int(k): float(v) for k, v in json.load(f).items()}
  except (OSError, ValueError, AttributeError):
    return 0.0
  before = [s for s in record if s <= step]
  return record[max(before)] if before else 0.0


class TrainClock:
  def __init__(self, workdir: str, step: int, *, enabled: bool = True):
    self._path = os.path.join(workdir, FILE)
    self._enabled = enabled
    self.recorded = seconds_at(workdir, step)
    self._start = time.perf_counter()
    self._excluded = 0.0

  def seconds(self) -> float:
    return self.recorded + time.perf_counter() - self._start - self._excluded

  @contextlib.contextmanager
  def excluding(self):
    """Time spent inside the block is not training time."""
    start = time.perf_counter()
    try:
      yield
    finally:
      self._excluded += time.perf_counter() - start

  def record(self, step: int) -> None:
    """Keeps the count at a checkpointed step (atomically; process 0 only)."""
    if not self._enabled:
      return
    try:
      with open(self._path, encoding="utf-8") as f:
        record = json.load(f)
    except (OSError, ValueError):
      record = {}
    record = {k: v for k, v in record.items() if k.isdigit() and int(k) < step}
    record[str(step)] = round(self.seconds(), 3)
    tmp = self._path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
      json.dump(record, f, indent=0)
    os.replace(tmp, self._path)
