"""The checks a training run makes before it builds a dataset iterator or allocates a
parameter: a mistyped value ends in one sentence within seconds, not in minutes of
work and an out-of-memory crash.

Sizes of splits come from the dataset's metadata only, and nothing here downloads or
reads a record: a catalog dataset that is not prepared is refused at once (as the
pipeline would refuse it), unless data.download lets the pipeline fetch it later, when
its split checks are left to the pipeline.
"""

import math
import os

import jax

from genjax import config_checks as checks
from genjax import data as gdata
from genjax.errors import ConfigError
from genjax.eval import evaluators as evaluators_lib
from genjax.train import optim

_GB = 1e9


def check(config, experiment=None) -> None:
  """Raises ConfigError (or DatasetError) for a config no run could train on; with
  `experiment`, also for a training state larger than a device's memory."""
  check_fields(config)
  d = config.data
  gdata.check_prepared(d.name, d.data_dir or None, download=d.download)
  spec = gdata.dataset_info(d.name, d.data_dir or None)
  _check_splits(config, spec)
  _check_batch_memory(config)
  if experiment is not None:
    check_state(experiment, config)


def _check_dispatch(config) -> None:
  """Every cadence must fall on a multiple of train.steps_per_dispatch: the loop sees
  the state only between dispatches."""
  tc = config.train
  k = checks.integer("train.steps_per_dispatch", tc.get("steps_per_dispatch", 1), 1, 10_000)
  if k == 1:
    return
  cadences = {f"train.{n}": tc[n] for n in ("num_steps", "log_every", "checkpoint_every")}
  cadences.update({f"train.{n}": tc[n] for n in ("eval_every", "sample_every") if tc[n]})
  for name, entry in config.get("evals", {}).items():
    if int(entry.get("every", 0)) > 0:
      cadences[f"evals.{name}.every"] = int(entry.every)
  for name, value in cadences.items():
    if value % k:
      raise ConfigError(
        f"{name}={value} is not a multiple of train.steps_per_dispatch={k}: the loop "
        f"only sees the state every {k} steps (make it a multiple of {k}, or set "
        f"train.steps_per_dispatch to 1)."
      )


def check_fields(config) -> None:
  """Raises ConfigError for a field no run could train with, of those that need no data:
  types, ranges, cadences on multiples of train.steps_per_dispatch, the optimisers and
  the evaluations' entries."""
  d, tc = config.data, config.train
  checks.integer("data.batch_size", d.batch_size, 1)
  checks.integer("data.eval_batch_size", d.eval_batch_size, 1)
  checks.integer("data.image_size", d.image_size, 0)
  gdata.validate(d)
  checks.integer("train.num_steps", tc.num_steps, 1)
  # Each is a modulus of the step; 0 turns periodic evaluation and samples off.
  for name in ("log_every", "checkpoint_every"):
    checks.integer(f"train.{name}", tc[name], 1)
  for name in ("eval_every", "sample_every"):
    checks.integer(f"train.{name}", tc[name], 0)
  checks.integer("train.keep_checkpoints", tc.keep_checkpoints, 1)
  checks.real("train.ema_decay", tc.ema_decay, 0, 1, high_open=True)
  checks.boolean("train.ema_warmup", tc.get("ema_warmup", False))
  checks.real("train.time_budget_s", tc.get("time_budget_s", 0.0), 0)
  _check_dispatch(config)
  for section in ("optim", "optim_disc"):
    if section in config:
      optim.check(config[section], section)
      # A rate of 0 trains nothing: never what a run means (tests freeze a network so).
      checks.real(f"{section}.learning_rate", config[section].learning_rate, 0, low_open=True)
  checks.integer("sample.num", config.sample.num, 1)
  checks.integer("sample.batch_size", config.sample.batch_size, 1)
  checks.integer("eval.fd_num_samples", config.eval.fd_num_samples, 0)
  _check_evals(config)


def _check_evals(config) -> None:
  n = config.eval.fd_num_samples
  for name, entry in dict(config.get("evals", {}).items()).items():
    kind = entry.get("type", name)
    if kind not in evaluators_lib.types():
      raise ConfigError(f"evals.{name}.type must be one of {evaluators_lib.types()}, not {kind!r}.")
    every = checks.integer(f"evals.{name}.every", entry.get("every", 0))
    every_s = checks.real(f"evals.{name}.every_s", entry.get("every_s", 0.0), 0)
    if every_s > 0 and every != 0:
      raise ConfigError(
        f"evals.{name} sets both every={every} (steps) and every_s={every_s:g} (training "
        "seconds); give it one cadence, the other 0."
      )
    for option in ("batch", "repeats"):
      if option in entry:
        checks.integer(f"evals.{name}.{option}", entry[option], 1)
    # k-NN manifolds need more than k points of each set (n of them).
    if "k" in entry:
      high = n - 1 if kind == "sample_quality" and n > 1 else None
      checks.integer(f"evals.{name}.k", entry["k"], 1, high)
  if 0 < n < 2 and any(
    e.get("type", k) == "sample_quality" for k, e in dict(config.get("evals", {}).items()).items()
  ):
    raise ConfigError(f"eval.fd_num_samples must be 0 (off) or at least 2, not {n}.")


def _size(field: str, spec_text: str, spec: gdata.DataSpec) -> int | None:
  """Records that split string `spec_text` (from config field `field`) reads; None
  when the dataset's split sizes are not known."""
  names = gdata.split_names(spec_text, field)
  known = spec.num_examples
  if not known:
    return None
  missing = sorted(names - set(known) - {"all"})
  if missing:
    raise ConfigError(
      f"{field}={spec_text!r} names split {missing[0]!r}, which dataset "
      f"'{spec.name}' does not have (its splits: {', '.join(known)})."
    )
  return gdata.num_records(spec_text, known, field)


def _check_splits(config, spec: gdata.DataSpec) -> None:
  d = config.data
  domains = tuple(d.get("domains", ()) or ())
  if domains:
    gdata.check_domains(d.name, domains, d.data_dir or None)
    train = [("data.domains", s) for s in domains]
  else:
    train = [("data.train_split", gdata.train_split(d))]
  for field, split in train:
    n = _size(field, split, spec)
    if n == 0:
      raise ConfigError(f"{field}={split!r} holds no examples of '{spec.name}'.")
    if n is not None and d.batch_size > n:
      raise ConfigError(
        f"data.batch_size={d.batch_size} is larger than the {n} examples "
        f"of split {split!r} of '{spec.name}' ({field}); use at most {n}."
      )
  eval_sizes = [_size("eval.split", s, spec) for s in config.eval.split.split(gdata.PAIR_SEP)]
  if None in eval_sizes:
    return
  # A pass over the split fills batches with padding beyond its end; one batch of the
  # whole split (rounded up to the devices it is sharded over) is the most that is used.
  devices = jax.device_count()
  useful = max(1, math.ceil(max(eval_sizes) / devices)) * devices
  if d.eval_batch_size > useful:
    raise ConfigError(
      f"data.eval_batch_size={d.eval_batch_size} is larger than the "
      f"{max(eval_sizes)} examples of eval split {config.eval.split!r}; "
      f"use at most {useful}."
    )


def _host_memory() -> int:
  return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


def _device_memory() -> tuple[int, str]:
  device = jax.local_devices()[0]
  stats = device.memory_stats() or {}
  if "bytes_limit" in stats:
    return stats["bytes_limit"], f"device {device}"
  return _host_memory(), "this host"  # a CPU device's memory is the host's


def _check_batch_memory(config) -> None:
  """Arrays of images the run holds at once, float32, each within the host's memory."""
  shape = gdata.image_shape(config.data)
  image = math.prod(shape) * 4
  limit = _host_memory()
  sizes = [
    ("data.batch_size", config.data.batch_size),
    ("data.eval_batch_size", config.data.eval_batch_size),
    ("sample.num", config.sample.num),
  ]
  for name, entry in dict(config.get("evals", {}).items()).items():
    if "batch" in entry:
      sizes.append((f"evals.{name}.batch", entry["batch"]))
  for field, n in sizes:
    if n * image > limit:
      raise ConfigError(
        f"{field}={n} images of {'x'.join(map(str, shape))} take "
        f"{n * image / _GB:.1f} GB, more than the {limit / _GB:.1f} GB of "
        f"this host's memory."
      )


def check_state(experiment, config) -> None:
  """The training state (parameters, their EMA, optimiser moments) must fit a device:
  the loop replicates it on every one. Shapes only: nothing is allocated."""
  shapes = jax.eval_shape(experiment.init, jax.random.key(config.seed))
  need = sum(math.prod(s.shape) * s.dtype.itemsize for s in jax.tree.leaves(shapes))
  limit, where = _device_memory()
  if need > limit:
    raise ConfigError(
      f"The model's training state takes {need / _GB:.1f} GB, more than "
      f"the {limit / _GB:.1f} GB of memory of {where}: make the model "
      f"smaller (config.model)."
    )
