"""What the families' figure modules share: which test images a figure shows, and the
curves of a run's logged metrics."""

import numpy as np

from genjax import viz
from genjax.train.writers import read_metrics


def one_per_class(labels, per_class: int = 1, num_classes: int = 10) -> np.ndarray:
  """Indices of the first `per_class` examples of each class 0 .. num_classes - 1, class
  by class.

  A class with fewer than `per_class` examples gives the ones it has, and the slots left
  over are filled at the end with the earliest examples not yet picked, so unlabelled
  data (every label 0) still shows num_classes * per_class images.
  """
  labels = np.asarray(labels)
  picked = [int(i) for c in range(num_classes) for i in np.flatnonzero(labels == c)[:per_class]]
  short = num_classes * per_class - len(picked)
  if short > 0:
    picked += np.setdiff1d(np.arange(len(labels)), picked)[:short].tolist()
  return np.asarray(picked, dtype=np.int64)


def has_every_class(labels, num_classes: int = 10) -> bool:
  """Whether each class 0 .. num_classes - 1 has an example: what the rows of
  `one_per_class` may be titled by class (an unlabelled dataset's labels are all 0)."""
  return bool(np.all(np.isin(np.arange(num_classes), np.asarray(labels))))


def metric_curves(
  path: str,
  workdir: str,
  curves: dict,
  *,
  ylabel: str,
  title: str = "",
  xlabel: str = "training step",
  x_scale: float = 1,
  logx: bool = False,
) -> str | None:
  """Logged metrics of workdir/metrics.jsonl against the training step, one line each.

  curves: {metric key: legend label}, or {metric key: (legend label, fn)} to plot
  fn(value) instead (a negated NLL, a log). x is step * x_scale (the batch size gives
  training images seen). ylabel names the unit. None when no record holds any key.
  """
  records = read_metrics(workdir)
  series = {}
  for key, spec in curves.items():
    label, fn = (spec, None) if isinstance(spec, str) else spec
    pts = [(r["step"] * x_scale, fn(r[key]) if fn else r[key]) for r in records if key in r]
    if pts:
      series[label] = tuple(zip(*pts))
  if not series:
    return None
  return viz.line_plot(path, series, xlabel=xlabel, ylabel=ylabel, title=title, logx=logx)
