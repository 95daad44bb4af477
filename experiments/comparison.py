"""The generative families compared under one protocol, with one set of evaluators.

The protocol, stated in every report it writes:

- Data: the embedded digits at their native 8×8, in 8-bit grey levels (no binarisation),
  for every family; training reads `train`, every number is measured on `test`.
- Models: each family's digits config (the model its README row describes) with only the
  data changed, and for the VAE and the autoregressive models the 8-bit likelihood head
  (a discretised mixture of logistics), so that bits/dim are of the same 8-bit test
  images throughout. The autoencoder's row decodes N(0, I) codes: the "not generative"
  reference. DDPM's other samplers are rows of their own that evaluate the same trained
  runs.
- Budget: every run trains for the same number of seconds (`train.time_budget_s`: the
  training steps' time, not counting XLA's compilation of the step, evaluation or saves),
  however many steps that is; the steps reached are recorded.
- Metrics: the evaluators of genjax/eval/evaluators.py, the same entries for every
  family: the family's held-out metrics (bits/dim where it has a likelihood), sample
  quality on the digit classifier's features (Fréchet distance, precision and recall at
  k = 3, classes covered, each beside its real-vs-real value at the same n) and sampling
  speed at a fixed batch, all re-measured side by side in each invocation. Where a family
  has no likelihood, the Parzen-window log-likelihood of the test digits (not a bound on
  one), beside that of as many training digits.
- Quality against training time: sample quality is also measured while each run trains,
  every budget / QUALITY_CURVE_POINTS seconds of training (the same seconds for every
  family, however many steps they are), with the training seconds of each point.
- Parameters: a family evaluates the parameters its config samples from (the EMA where
  train.ema_decay > 0); the table says which. The EMA warms up (train.ema_warmup: decay
  min(ema_decay, (1 + t) / (10 + t)) at update t) in every family, so that a family that
  reaches few steps in the budget is not judged by an average still mostly made of its
  initialisation (0.999 keeps 45 % of it after 800 steps).
- GANs: the digits configs' defaults, stabilised for small data (DiffAugment, with ADA's
  adaptive probability for DCGAN, and for the MLP GAN R1, spectral norm and two
  time-scale learning rates), and the papers' settings as rows of their own, the
  instability the course notes describe.
"""

import dataclasses
import importlib
import json
import os
import time

import numpy as np

import experiments
from genjax.errors import ConfigError, GenjaxError, TrainingDiverged
from genjax.train import clock, loop
from genjax.train.writers import read_metrics


@dataclasses.dataclass(frozen=True)
class Entry:
  name: str  # its row and its subdirectory of the comparison's workdir
  config: str  # experiments/configs/<module>[:<variants>]
  model: str  # what the row is, for the reader
  likelihood: str  # what eval/bits_per_dim is for this family ("" = it has none)
  # A row that trains nothing: it evaluates the runs of entry `of` with these sample.*
  # fields changed (another sampler of the same trained model).
  of: str = ""
  sample: tuple = ()  # ((field, value), ...)
  # The recorded sweep (experiments/comparison_sweep.py) scales its learning rate and width
  # (False: the papers' settings, and the autoencoder, a reference, are not tuned) ...
  sweep: bool = True
  # ... and the setting it chose: ((axis, factor), ...) of scale(), () = the digits default.
  tuned: tuple = ()


ENTRIES = (
  Entry(
    "vae",
    "vae_digits:logistic",
    "VAE, MLP 64-500-500-2, logistic-mixture decoder",
    "importance-weighted bound, k = 1000",
  ),
  # `tuned`: the settings the recorded sweep chose (launch.compare --sweep, 2026-12-03:
  # sweep.md in the comparison's workdir, and the README's table of it)
  Entry(
    "gan",
    "gan_digits",
    "GAN, MLP, stabilised: DiffAugment, R1, SN, TTUR",
    "",
    tuned=(("width", 0.5),),
  ),
  Entry("gan_paper", "gan_digits:paper", "GAN, MLP, the paper's setting", "", sweep=False),
  Entry(
    "dcgan",
    "dcgan_digits",
    "DCGAN, conv 128-64 / 64-128, DiffAugment with ADA",
    "",
    tuned=(("lr", 2.0),),
  ),
  Entry("dcgan_paper", "dcgan_digits:paper", "DCGAN, the paper's setting", "", sweep=False),
  Entry(
    "ddpm",
    "ddpm_digits",
    "DDPM, U-Net, T = 1000; samples by DDIM, 50 steps",
    "variational bound",
    tuned=(("lr", 2.0),),
  ),
  Entry(
    "ddpm_ancestral",
    "ddpm_digits",
    "the same DDPM runs, ancestral sampler, 1000 steps",
    "variational bound",
    of="ddpm",
    sample=(("sampler", "ancestral"),),
  ),
  *(
    Entry(
      f"ddpm_ddim{n}",
      "ddpm_digits",
      f"the same DDPM runs, DDIM, {n} steps",
      "variational bound",
      of="ddpm",
      sample=(("sampler", "ddim"), ("ddim_steps", n)),
    )
    for n in (10, 20, 100)
  ),
  Entry(
    "pixelcnn",
    "pixelcnn_digits:logistic",
    "PixelCNN, 5 residual blocks, logistic mixture",
    "exact",
    tuned=(("width", 2.0),),
  ),
  Entry(
    "gated_pixelcnn",
    "gated_pixelcnn_digits:logistic",
    "Gated PixelCNN, 5 gated layers, logistic mixture",
    "exact",
  ),
  Entry(
    "row_lstm",
    "row_lstm_digits:logistic",
    "Row LSTM, 2 layers, logistic mixture",
    "exact",
    tuned=(("width", 2.0),),
  ),
  Entry(
    "diagonal_bilstm",
    "diagonal_bilstm_digits:logistic",
    "Diagonal BiLSTM, 2 layers, logistic mixture",
    "exact",
  ),
  Entry(
    "autoencoder",
    "autoencoder_digits",
    "autoencoder, MLP 64-500-500-20, decoding N(0, I) codes (not generative)",
    "",
    sweep=False,
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
# Sample quality measured during training at every budget / 6 training seconds (15 s of
# the 90), the last at the budget: six points per run show where the ranking changes
# without the curve costing more than the training. The dearest is DDPM's DDIM-50 sampler
# of 300 images, about 6 s per point (36 s per run, 2 min over 3 seeds, not counted in
# the budget); the autoregressive samplers take about 0.1 s per point.
QUALITY_CURVE_POINTS = 6
# --smoke: runs end at their few steps long before the budget; a point at nearly every log
# step shows the pipeline
SMOKE_QUALITY_EVERY_S = 0.02
# The Parzen window of the rows with no likelihood: 1,000 samples as kernel centres, and
# the reference at the same n, 1,000 of the 1,347 training digits (the estimate grows with
# n: at 10,000 samples the MLP GAN scores 8 nats more than at 1,000). About 0.6 s per run
# once compiled (5 s with the compile) on one core at 8×8; n hardly matters at 64 pixels.
PARZEN_SAMPLES = 1000
PARZEN_SIGMAS = (0.05, 0.08, 0.1, 0.13, 0.16, 0.2, 0.25, 0.3, 0.4)  # on pixels in [0, 1]
# Seconds of training per run: 9 trained rows x 3 seeds x 90 s is 41 min of training;
# compiling, evaluating (DDPM's bound and its 1000-step sampler above all) and sampling add
# about as much again on one core.
BUDGET_S = 90.0
SMOKE_BUDGET_S = 2.0  # with the smoke configs' own (few) steps as the cap
MAX_STEPS = 10_000_000  # the budget, not a step count, ends a run
FEATURE_NET = "digits"  # the feature network's name: metrics are eval/fd_digits, ...
# A run whose samples fall into fewer classes than this (of 10) has collapsed.
COLLAPSED_BELOW_CLASSES = 8


def entries(only: str = "") -> tuple:
  """The entries named (all for ""), with the entries whose runs they evaluate."""
  names = [n for n in only.split(",") if n]
  unknown = sorted(set(names) - set(NAMES))
  if unknown:
    raise ConfigError(
      f"--only names families of the comparison: {', '.join(NAMES)}; not {unknown[0]!r}."
    )
  wanted = set(names or NAMES)
  wanted |= {e.of for e in ENTRIES if e.name in wanted and e.of}
  return tuple(e for e in ENTRIES if e.name in wanted)


def config_for(entry: Entry, *, smoke: bool, seed: int, data_dir: str = "", budget_s=None):
  """The entry's config under the protocol: its own model, common data, training budget
  and evaluators."""
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
  c.train.eval_every = 0  # measured on the finished run, by the entries above
  c.train.sample_every = 0  # the comparison draws its own samples
  c.train.time_budget_s = float(budget_s if budget_s is not None else default_budget(smoke))
  c.train.ema_warmup = True
  # One step per call, as the protocol's runs were measured: a digits config's own k
  # (PixelCNN's five, chosen for its 28x28 steps) is not part of the protocol.
  c.train.steps_per_dispatch = 1
  evals = {name: dict(entry) for name, entry in EVALS.items()}
  if not entry.of:  # a row that only evaluates another's runs has no training to follow
    every_s = SMOKE_QUALITY_EVERY_S if smoke else c.train.time_budget_s / QUALITY_CURVE_POINTS
    evals["sample_quality"].update(every=0, every_s=every_s)
  if has_parzen(entry):
    evals["parzen"] = dict(type="parzen", every=-1, train_set=True, train_set_num=PARZEN_SAMPLES)
    c.eval.parzen_samples = PARZEN_SAMPLES
    c.eval.parzen_sigmas = PARZEN_SIGMAS
    c.eval.parzen_valid_split = "validation"  # neither trained on nor kernel centres
  c.evals = ml_collections.ConfigDict(evals)
  if not smoke:
    c.train.num_steps = MAX_STEPS
    c.train.checkpoint_every = 1000
  # The budget is checked at log lines: often enough that no run overshoots it by much.
  c.train.log_every = min(c.train.log_every, 20)
  for field, value in entry.sample:
    c.sample[field] = value
  for axis, factor in tuning(entry):
    scale(c, axis, factor)
  return c


def tuning(entry: Entry) -> tuple:
  """The setting an entry's runs are trained at: its own, or for a row that evaluates
  another's runs, that entry's."""
  if entry.of:
    return next((e.tuned for e in ENTRIES if e.name == entry.of), ())
  return entry.tuned


# The model fields that set a family's width, by config.family (fields a model does not
# use, such as the VAE's conv `channels` under the MLP backbone, are scaled harmlessly).
WIDTH_FIELDS = {
  "vae": ("hidden", "channels"),
  "gan": ("g_hidden", "d_hidden", "g_channels", "d_channels"),
  "ddpm": ("ch",),
  "autoregressive": ("hidden", "head_hidden"),
  "autoencoder": ("hidden",),
}


def scale(c, axis: str, factor: float) -> None:
  """Scales the config's learning rates (axis "lr": every optimiser's, G's and D's alike)
  or its width (axis "width": every field of WIDTH_FIELDS, each layer's channels or units,
  rounded) by `factor`, in place."""
  if axis == "lr":
    for section in ("optim", "optim_disc"):
      if section in c:
        c[section].learning_rate *= factor
  elif axis == "width":
    for field in WIDTH_FIELDS[c.family]:
      if field in c.model:
        v = c.model[field]
        resize = lambda n: max(1, round(n * factor))
        c.model[field] = tuple(resize(n) for n in v) if isinstance(v, tuple) else resize(v)
  else:
    raise ConfigError(f"a comparison setting scales 'lr' or 'width', not {axis!r}.")


def setting_name(setting: tuple) -> str:
  """((axis, factor), ...) -> "lr x2, width x0.5"; () -> "default"."""
  return ", ".join(f"{axis} x{factor:g}" for axis, factor in setting) or "default"


def has_parzen(entry: Entry) -> bool:
  """Rows with no likelihood get the Parzen window's estimate instead (marked as such)."""
  return not entry.likelihood


def default_budget(smoke: bool) -> float:
  return SMOKE_BUDGET_S if smoke else BUDGET_S


def run_dir(workdir: str, entry: Entry, seed: int) -> str:
  """Where one run lives (an evaluation-only row's is the run it evaluates); a later
  invocation with more seeds reuses the earlier ones."""
  return os.path.join(workdir, entry.of or entry.name, f"seed_{seed}")


def _read(path: str):
  if not os.path.exists(path):
    return None
  with open(path, encoding="utf-8") as f:
    return json.load(f)


def is_measured(entry: Entry, rundir: str) -> bool:
  """Whether this run's record is final (measured, or diverged): rerunning reads it back."""
  record = _read(_record_path(entry, rundir))
  return bool(record and (record.get("diverged") or record.get("finished")))


def _check_setting(entry: Entry, record, rundir: str) -> None:
  """A run recorded at another setting than the entry's (its `tuned` changed since) is
  neither read back as this setting's nor retrained over: one clear sentence instead."""
  if not record:
    return
  was, wanted = record.get("settings", "default"), setting_name(tuning(entry))
  if was != wanted:
    raise ConfigError(
      f"{rundir} holds a run of {entry.name} at setting '{was}', and the comparison now "
      f"trains it at '{wanted}': move that directory away (or use a new workdir) to train "
      "it again."
    )


def _record_path(entry: Entry, rundir: str) -> str:
  return os.path.join(rundir, f"comparison_{entry.name}.json" if entry.of else "comparison.json")


def train_and_measure(entry: Entry, config, rundir: str, feature_net, trained=None) -> dict:
  """Trains (or resumes) one run and measures it; a measured run is read back, not
  retrained or remeasured. A run that diverges is recorded as such, not raised.

  An evaluation-only row (entry.of) measures the samples of `trained`'s run, the record
  of entry.of at this seed, and takes its training and likelihood from that record."""
  path = _record_path(entry, rundir)
  record = _read(path)
  _check_setting(entry, record, rundir)
  if record and record.get("finished") and "parzen" in config.evals:
    if "eval/parzen_ll" not in record["metrics"]:  # measured before the Parzen column
      _add_parzen(config, rundir, feature_net, record, path)
  if record and (record.get("diverged") or record.get("finished")):
    return record
  experiment = experiments.build(config)
  record = {"entry": entry.name, "config": entry.config, "seed": config.seed}
  record["settings"] = setting_name(tuning(entry))
  if entry.of:
    if trained.get("diverged"):
      return {**record, "diverged": trained["diverged"]}
    _, quality = loop.evaluate_checkpoint(
      experiment, config, rundir, feature_net=feature_net, names=("sample_quality",)
    )
    # The model's own numbers (its likelihood) are the trained run's; the samples' are new.
    record.update(
      {k: trained[k] for k in ("step", "train_seconds", "train_steps_per_sec")},
      metrics={**trained["metrics"], **quality},
      finished=True,
    )
  else:
    try:
      loop.train_and_evaluate(experiment, config, rundir, feature_net=feature_net)
      step, metrics = loop.evaluate_checkpoint(
        experiment,
        config,
        rundir,
        feature_net=feature_net,
        names=("split_means", "sample_quality", "parzen"),
      )
      record.update(step=step, metrics=metrics, finished=True)
      record["train_seconds"] = clock.seconds_at(rundir, step)
    except TrainingDiverged as e:
      record["diverged"] = str(e)
    record["train_steps_per_sec"] = median_steps_per_sec(rundir)
  os.makedirs(rundir, exist_ok=True)
  with open(path, "w", encoding="utf-8") as f:
    json.dump(record, f, indent=2)
  return record


def _add_parzen(config, rundir: str, feature_net, record: dict, path: str) -> None:
  """Measures the Parzen window on a run finished before it was part of the protocol:
  its checkpoint is evaluated, not retrained. A checkpoint the config cannot restore
  leaves the column empty for that run, and says so."""
  try:
    _, parzen = loop.evaluate_checkpoint(
      experiments.build(config), config, rundir, feature_net=feature_net, names=("parzen",)
    )
  except GenjaxError as e:
    print(f"   no Parzen window for {rundir}: {e}", flush=True)
    return
  record["metrics"].update(parzen)
  with open(path, "w", encoding="utf-8") as f:
    json.dump(record, f, indent=2)


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


def now() -> str:
  return time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
