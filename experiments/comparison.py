"""The generative families compared under one protocol, with one set of evaluators.

The protocol, stated in every report it writes:

- Data: the embedded digits at their native 8×8, in 8-bit grey levels (no binarisation),
  for every family; training reads `train`, every number is measured on `test`.
- Models: each family's digits config (the model its README row describes) with only the
  data changed, and for the VAE and PixelCNN the 8-bit likelihood head (a discretised
  mixture of logistics), so that bits/dim are of the same 8-bit test images throughout.
- Metrics: the evaluators of genjax/eval/evaluators.py, the same entries for every
  family: the family's held-out metrics (bits/dim where it has a likelihood), sample
  quality on the digit classifier's features (Fréchet distance, precision and recall at
  k = 3, classes covered, each beside its real-vs-real value at the same n) and sampling
  speed at a fixed batch, all re-measured side by side in each invocation.
- Parameters: a family evaluates the parameters its config samples from (the EMA where
  train.ema_decay > 0); the table says which.
"""

import dataclasses
import importlib
import json
import os
import time

import numpy as np

import experiments
from genjax.errors import ConfigError, TrainingDiverged
from genjax.train import loop
from genjax.train.writers import read_metrics


@dataclasses.dataclass(frozen=True)
class Entry:
  name: str  # its row and its subdirectory of the comparison's workdir
  config: str  # experiments/configs/<module>[:<variants>]
  model: str  # what the row is, for the reader
  likelihood: str  # what eval/bits_per_dim is for this family ("" = it has none)


ENTRIES = (
  Entry(
    "vae",
    "vae_digits:logistic",
    "VAE, MLP 64-500-500-2, logistic-mixture decoder",
    "importance-weighted bound, k = 1000",
  ),
  Entry("gan", "gan_digits", "GAN, MLP, non-saturating G loss", ""),
  Entry("dcgan", "dcgan_digits", "DCGAN, conv 128-64 / 64-128", ""),
  Entry(
    "ddpm", "ddpm_digits", "DDPM, U-Net, T = 1000; samples by DDIM, 50 steps", "variational bound"
  ),
  Entry(
    "pixelcnn", "pixelcnn_digits:logistic", "PixelCNN, 5 residual blocks, logistic mixture", "exact"
  ),
)
NAMES = tuple(e.name for e in ENTRIES)

# The evaluators every family is measured with; `every` < 0: after training only.
EVALS = dict(
  split_means=dict(type="split_means", every=-1),
  sample_quality=dict(type="sample_quality", every=-1, k=3),
  sampling_speed=dict(type="sampling_speed", every=-1, batch=100, repeats=3),
)
QUALITY_SAMPLES = 300  # the whole 8×8 test split; the floor uses as many train images
SMOKE_QUALITY_SAMPLES = 100


def entries(only: str = "") -> tuple:
  names = [n for n in only.split(",") if n]
  unknown = sorted(set(names) - set(NAMES))
  if unknown:
    raise ConfigError(
      f"--only names families of the comparison: {', '.join(NAMES)}; not {unknown[0]!r}."
    )
  return tuple(e for e in ENTRIES if not names or e.name in names)


def config_for(entry: Entry, *, smoke: bool, seed: int, data_dir: str = ""):
  """The entry's config under the protocol: its own model and training, common data and
  evaluators."""
  import ml_collections  # pylint: disable=import-outside-toplevel

  module, _, variants = entry.config.partition(":")
  variants = ",".join(v for v in (variants, "smoke" if smoke else "") if v) or None
  c = importlib.import_module(f"experiments.configs.{module}").get_config(variants)
  c.seed = seed
  c.data.name = "digits"
  c.data.binarize = "none"
  c.data.data_dir = data_dir
  c.data.train_split = "train"
  c.eval.split = "test"
  c.eval.fd_num_samples = SMOKE_QUALITY_SAMPLES if smoke else QUALITY_SAMPLES
  c.evals = ml_collections.ConfigDict(EVALS)
  c.train.eval_every = 0  # measured once, on the finished run, by the entries above
  return c


def run_dir(workdir: str, entry: Entry, seed: int) -> str:
  """Where one run lives; a later invocation with more seeds reuses the earlier ones."""
  return os.path.join(workdir, entry.name, f"seed_{seed}")


def train_and_measure(entry: Entry, config, rundir: str, feature_net) -> dict:
  """Trains (or resumes) one run and measures it; a measured run is read back, not
  retrained or remeasured. A run that diverges is recorded as such, not raised."""
  path = os.path.join(rundir, "comparison.json")
  if os.path.exists(path):
    with open(path, encoding="utf-8") as f:
      record = json.load(f)
    if record.get("diverged") or record.get("step") == config.train.num_steps:
      return record
  experiment = experiments.build(config)
  record = {"entry": entry.name, "config": entry.config, "seed": config.seed}
  try:
    loop.train_and_evaluate(experiment, config, rundir, feature_net=feature_net)
    step, metrics = loop.evaluate_checkpoint(
      experiment, config, rundir, feature_net=feature_net, names=("split_means", "sample_quality")
    )
    record.update(step=step, metrics=metrics)
  except TrainingDiverged as e:
    record["diverged"] = str(e)
  record["train_steps_per_sec"] = median_steps_per_sec(rundir)
  os.makedirs(rundir, exist_ok=True)
  with open(path, "w", encoding="utf-8") as f:
    json.dump(record, f, indent=2)
  return record


def sampling_speed(config, rundir: str) -> dict:
  """images/s and network evaluations per image of a trained run, measured now."""
  experiment = experiments.build(config)
  return loop.evaluate_checkpoint(experiment, config, rundir, names=("sampling_speed",))[1]


def draw(config, rundir: str, n: int, seed_offset: int = 3) -> np.ndarray:
  """n samples in [-1, 1] from a trained run, for the comparison's sample figure."""
  import jax  # pylint: disable=import-outside-toplevel

  experiment = experiments.build(config)
  _, state = loop.restore_latest(experiment, config, rundir)
  fn = jax.jit(experiment.sample, static_argnums=2)
  return np.asarray(fn(state, jax.random.key(config.seed + seed_offset), n))


def median_steps_per_sec(rundir: str) -> float:
  """Training speed from the run's own log: the median over its log intervals after the
  first (which includes compilation), so a resumed run is timed like one that was not."""
  rates = [r["train/steps_per_sec"] for r in read_metrics(rundir) if "train/steps_per_sec" in r]
  rates = rates[1:] or rates
  return float(np.median(rates)) if rates else float("nan")


def summarise(records: list) -> dict:
  """One family's runs (one per seed) -> mean, and standard deviation over seeds, of each
  metric; how many runs diverged."""
  done = [r for r in records if not r.get("diverged")]
  out = {"runs": len(records), "diverged": len(records) - len(done), "mean": {}, "sd": {}}
  keys = sorted({k for r in done for k in r["metrics"]} | {"train_steps_per_sec"})
  for k in keys:
    vals = [r["metrics"].get(k, r.get(k)) for r in done]
    vals = [float(v) for v in vals if isinstance(v, (int, float))]
    if vals:
      out["mean"][k] = float(np.mean(vals))
      out["sd"][k] = float(np.std(vals, ddof=1)) if len(vals) > 1 else float("nan")
  return out


def now() -> str:
  return time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
