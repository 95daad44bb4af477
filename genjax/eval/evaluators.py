"""Evaluators: every metric genjax reports, each built from one entry of `config.evals`.

  config.evals.<name> = dict(type=<a registered type>, every=<steps>, ...its options)

`every` > 0 runs it every that many training steps and at the last one; 0 on the run's
`train.eval_every` cadence; < 0 never during training, only when a finished workdir is
evaluated (launch.reproduce, launch.compare). The loop and those entry points build the
evaluators with the same `from_config` and call the same `run(state)`, so a number in a
table and the number in metrics.jsonl come from one code path.

An evaluator that cannot apply to a run (sample quality without a feature network, or
for a family that does not sample) is left out, not failed.
"""

import dataclasses
import math
import time
from typing import Any, Callable

import jax
import numpy as np

from genjax import data as gdata
from genjax.errors import ConfigError
from genjax.eval import frechet, parzen, precision_recall
from genjax.train import evaluation
from genjax.train import mesh as mesh_lib


@dataclasses.dataclass(frozen=True)
class EvalContext:
  """What evaluators are built from: the family's pure functions and the run's setting."""

  experiment: Any  # genjax.train.experiment.Experiment
  config: Any
  mesh: Any
  key: jax.Array
  feature_net: Any = None  # genjax.eval.feature_net.FeatureNet, resolved by the entry point


@dataclasses.dataclass(frozen=True)
class Evaluator:
  name: str
  type: str
  every: int
  run: Callable[[Any], dict]  # state -> {"eval/...": float}


_TYPES: dict = {}


def register(type_name: str):
  """Registers `factory(entry, ctx) -> run(state) | None` under `type_name`."""

  def wrap(factory):
    _TYPES[type_name] = factory
    return factory

  return wrap


def types() -> tuple:
  return tuple(sorted(_TYPES))


def from_config(ctx: EvalContext) -> list[Evaluator]:
  """The run's evaluators; an unknown type is a ConfigError."""
  entries = dict(ctx.config.get("evals", {}).items())
  for name, entry in entries.items():  # every entry checked before any is built
    kind = entry.get("type", name)
    if kind not in _TYPES:
      raise ConfigError(f"evals.{name}.type must be one of {types()}, not {kind!r}.")
  built = []
  for name, entry in entries.items():
    kind = entry.get("type", name)
    run = _TYPES[kind](entry, ctx)
    if run is not None:
      built.append(Evaluator(name=name, type=kind, every=int(entry.get("every", 0)), run=run))
  return built


def is_due(evaluator: Evaluator, step: int, num_steps: int, eval_every: int) -> bool:
  """Whether the loop runs `evaluator` after training step `step`."""
  if not eval_every or evaluator.every < 0:
    return False
  every = evaluator.every or eval_every
  return step % every == 0 or step == num_steps


def run_all(evaluators, state) -> dict:
  metrics = {}
  for ev in evaluators:
    metrics.update(ev.run(state))
  return metrics


# --- The family's own per-example metrics, averaged over a split ------------------------


@register("split_means")
def _split_means(entry, ctx):
  """eval_step's per-example values (ELBO, exact NLL, the diffusion bound, accuracy, ...)
  averaged over every real example of the split, once each."""
  eval_fn = evaluation.make_eval_fn(ctx.experiment, ctx.mesh)
  split = entry.get("split", "") or ctx.config.eval.split
  return lambda state: evaluation.evaluate_split(
    eval_fn, state, ctx.config, ctx.mesh, key=ctx.key, split=split
  )


# --- Sample quality on a feature network ----------------------------------------------


def reference_images(config, split: str, n: int, *, binary: bool) -> np.ndarray:
  """n real images of `split`, prepared as the samples they are compared with: grey
  levels, or (for a model that samples binarised images) the fixed evaluation
  binarisation of them."""
  return labelled_reference(config, split, n, binary=binary)["image"]


def edge_energy(images) -> float:
  """Mean absolute difference between neighbouring pixels (both directions): what blur
  lowers and pixel noise raises."""
  x = np.asarray(images, np.float64)
  return float(np.mean(np.abs(np.diff(x, axis=1))) + np.mean(np.abs(np.diff(x, axis=2))))


class SampleQuality:
  """Fréchet distance, precision and recall (k-NN manifolds), class coverage and
  sharpness of generated images against a fixed set of n real ones, each beside its
  real-vs-real value at the same n: what finite samples alone cost (the floor).

  Sharpness is the samples' edge energy over the real images' (1 = as sharp as real
  digits; below 1 blurred, above 1 noisier), a pixel statistic beside the feature ones."""

  def __init__(self, net, real, other_real, *, k: int = 3, min_fraction: float = 0.01):
    if len(real) < 2 or len(other_real) < 2:
      raise ConfigError("sample quality needs at least 2 real images in each split.")
    self.net, self.k, self.min_fraction = net, k, min_fraction
    self.n = min(len(real), len(other_real))
    probs, self.real = net.outputs(real[: self.n])
    self.real_stats = frechet.gaussian_stats(self.real)
    other = net.features(other_real[: self.n])
    self.floor = {"fd": frechet.frechet_distance(*frechet.gaussian_stats(other), *self.real_stats)}
    self.floor["precision"], self.floor["recall"] = precision_recall.precision_recall(
      self.real, other, k
    )
    self.real_classes = class_coverage(probs, min_fraction)
    self.real_edges = edge_energy(real[: self.n])
    self.floor["sharpness"] = edge_energy(other_real[: self.n]) / self.real_edges

  def metrics(self, generated) -> dict:
    probs, feats = self.net.outputs(generated[: self.n])
    name = self.net.name
    fd = frechet.frechet_distance(*frechet.gaussian_stats(feats), *self.real_stats)
    prec, rec = precision_recall.precision_recall(self.real, feats, self.k)
    classes = class_coverage(probs, self.min_fraction)
    return {
      f"eval/fd_{name}": fd,
      f"eval/fd_{name}_floor": self.floor["fd"],
      f"eval/precision_{name}": prec,
      f"eval/precision_{name}_floor": self.floor["precision"],
      f"eval/recall_{name}": rec,
      f"eval/recall_{name}_floor": self.floor["recall"],
      "eval/classes_covered": classes["classes_covered"],
      "eval/class_entropy": classes["entropy_nats"],
      "eval/sharpness": edge_energy(generated[: self.n]) / self.real_edges,
      "eval/sharpness_floor": self.floor["sharpness"],
    }


def sample_quality_for(net, config, *, binary: bool = False, n: int | None = None, k: int = 3):
  """SampleQuality against the config's eval split, its floor from its training split."""
  n = n or config.eval.fd_num_samples
  train_split = config.data.get("train_split", "train")
  return SampleQuality(
    net,
    reference_images(config, config.eval.split, n, binary=binary),
    reference_images(config, train_split, n, binary=binary),
    k=k,
    min_fraction=config.eval.get("mode_min_fraction", 0.01),
  )


def class_coverage(probs, min_fraction: float) -> dict:
  """Classes generated and the entropy of the predicted-class histogram (nats).

  A class counts as covered when at least `min_fraction` of the images are classified
  as it; images spread evenly over every class have entropy log(num_classes).
  """
  probs = np.asarray(probs)
  num_classes = probs.shape[1]
  hist = np.bincount(np.argmax(probs, axis=1), minlength=num_classes) / len(probs)
  nz = hist[hist > 0]
  return {
    "classes_covered": int(np.sum(hist >= min_fraction)),
    "num_classes": num_classes,
    "entropy_nats": float(-np.sum(nz * np.log(nz))),
    "max_entropy_nats": math.log(num_classes),
    "histogram": [round(float(h), 4) for h in hist],
    "num_samples": len(probs),
    "min_fraction": min_fraction,
  }


def sampler(ctx):
  """The family's sampler, jitted with replicated output (every process sees it all)."""
  return jax.jit(
    ctx.experiment.sample, static_argnums=2, out_shardings=mesh_lib.replicated(ctx.mesh)
  )


@register("sample_quality")
def _sample_quality(entry, ctx):
  """eval/fd_<net> and its floor, precision and recall (k = entry.k, 3) with their
  real-vs-real values, and classes covered / class entropy, on eval.fd_num_samples
  samples."""
  cfg = ctx.config
  if ctx.feature_net is None or ctx.experiment.sample is None or cfg.eval.fd_num_samples <= 0:
    return None
  sample_fn = sampler(ctx)
  reference = []

  def run(state):
    if not reference:  # built on first use: a run that never evaluates never loads data
      reference.append(
        sample_quality_for(
          ctx.feature_net, cfg, k=int(entry.get("k", 3)), binary=ctx.experiment.binary_samples
        )
      )
    quality = reference[0]
    fake = evaluation.draw_samples(sample_fn, state, ctx.key, quality.n, cfg.sample.batch_size)
    return quality.metrics(fake)

  return run


# --- Parzen window ------------------------------------------------------------------


@register("parzen")
def _parzen(entry, ctx):
  """Goodfellow et al.'s Parzen-window log-likelihood of the test split (nats), sigma
  chosen on eval.parzen_valid_split: held-out images that are neither trained on nor
  kernel centres. Biased and high-variance in many dimensions (Theis et al. 2016); a
  poor sampler can score high. Pixels on [0, 1]."""
  cfg = ctx.config
  if ctx.experiment.sample is None:
    return None
  sample_fn = sampler(ctx)
  num = int(entry.get("num_samples", 0) or cfg.eval.get("parzen_samples", 10_000))
  sigmas = [float(s) for s in cfg.eval.get("parzen_sigmas", (0.05, 0.1, 0.2))]
  valid_split = cfg.eval.get("parzen_valid_split", "validation")

  def run(state):
    unit = lambda x: (np.asarray(x, np.float32) + 1.0) / 2.0
    fakes = unit(
      evaluation.draw_samples(
        sample_fn, state, jax.random.fold_in(ctx.key, 7), num, cfg.sample.batch_size
      )
    )
    valid = unit(gdata.load_split(cfg.data, valid_split)["image"])
    test = unit(gdata.load_split(cfg.data, cfg.eval.split)["image"])
    sigma, _ = parzen.select_sigma(valid, fakes, sigmas)
    mean, se = parzen.mean_and_stderr(parzen.parzen_log_likelihood(test, fakes, [sigma])[0])
    return {"eval/parzen_ll": mean, "eval/parzen_ll_stderr": se, "eval/parzen_sigma": sigma}

  return run


# --- Sampling speed -----------------------------------------------------------------


@register("sampling_speed")
def _sampling_speed(entry, ctx):
  """Images per second of the jitted sampler at a fixed batch (entry.batch, 100; the
  best of entry.repeats, 3, timed calls after one that compiles), and the network
  evaluations each image costs (sequential steps of the sampler)."""
  if ctx.experiment.sample is None:
    return None
  batch = int(entry.get("batch", 100))
  repeats = int(entry.get("repeats", 3))
  sample_fn = sampler(ctx)

  def run(state):
    key = jax.random.fold_in(ctx.key, 11)
    jax.block_until_ready(sample_fn(state, key, batch))
    best = math.inf
    for i in range(repeats):
      start = time.perf_counter()
      jax.block_until_ready(sample_fn(state, jax.random.fold_in(key, i + 1), batch))
      best = min(best, time.perf_counter() - start)
    return {
      "eval/sample_images_per_sec": batch / best,
      "eval/network_evals_per_image": float(ctx.experiment.network_evals_per_sample),
    }

  return run


# --- Class-conditional samples --------------------------------------------------------


def labelled_reference(config, split: str, n: int | None, *, binary: bool) -> dict:
  """{"image", "label"} of n real images of `split` (all of it for None): grey levels, or
  for a binary sampler the fixed evaluation binarisation of them."""
  data_cfg = config.data.copy_and_resolve_references()
  with data_cfg.unlocked():
    data_cfg.binarize = config.data.binarize if binary else "none"
  return gdata.load_split(data_cfg, split, max_examples=n, seed=config.seed)


def class_accuracy(net, images, labels) -> float:
  """The fraction of images the feature network's classifier names as their label."""
  said = np.argmax(net.outputs(images)[0], axis=-1)
  return float(np.mean(said == np.asarray(labels)))


@register("class_accuracy")
def _class_accuracy(entry, ctx):
  """eval/class_accuracy: how often the feature network's classifier names the class a
  class-conditional sample was drawn for, on entry.num_per_class (10) samples of each of
  model.num_classes. eval/class_accuracy_real: the same classifier on the eval split's
  real images (entry.num_real of them, 0: all), prepared as the samples are (binarised
  for a binary sampler): what samples as good as real images would score. Left out for
  a model without a class-conditional sampler, or without a feature network."""
  exp, cfg = ctx.experiment, ctx.config
  if ctx.feature_net is None or exp.sample_class is None:
    return None
  per = int(entry.get("num_per_class", 10))
  labels = np.repeat(np.arange(int(cfg.model.get("num_classes", 10)), dtype=np.int32), per)
  sample_fn = jax.jit(exp.sample_class, out_shardings=mesh_lib.replicated(ctx.mesh))
  batch = int(cfg.sample.batch_size)
  real = []

  def run(state):
    if not real:  # the classifier's alone: computed once, on first use
      ref = labelled_reference(
        cfg, cfg.eval.split, int(entry.get("num_real", 0)) or None, binary=exp.binary_samples
      )
      real.append(class_accuracy(ctx.feature_net, ref["image"], ref["label"]))
    key = jax.random.fold_in(ctx.key, 13)
    drawn = np.concatenate(
      [
        np.asarray(sample_fn(state, jax.random.fold_in(key, i), labels[s : s + batch]))
        for i, s in enumerate(range(0, len(labels), batch))
      ]
    )
    return {
      "eval/class_accuracy": class_accuracy(ctx.feature_net, drawn, labels),
      "eval/class_accuracy_real": real[0],
    }

  return run
