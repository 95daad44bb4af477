"""Evaluators of a family's samples: quality on a feature network (Fréchet distance,
precision/recall, classes, sharpness), Parzen windows, sampling speed, class-conditional
accuracy, and several samplers of one model side by side."""

import math
import time

import jax
import numpy as np

from genjax import data as gdata
from genjax.errors import ConfigError
from genjax.eval import frechet, parzen, precision_recall
from genjax.eval.registry import register
from genjax.train import evaluation
from genjax.train import mesh as mesh_lib

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
      "eval/classes_covered_real": self.real_classes["classes_covered"],
      "eval/class_entropy_real": self.real_classes["entropy_nats"],
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
  real-vs-real values, and classes covered / class entropy (the GAN papers' mode
  coverage; _real: of the test images), on eval.fd_num_samples samples."""
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


def check_parzen_held_out(cfg) -> None:
  """Sigma must be chosen on images the model never trained on (nor the reference row's
  centres, which are the training images)."""
  valid = cfg.eval.get("parzen_valid_split", "validation")
  train = gdata.train_split(cfg.data)
  sizes = gdata.split_sizes(cfg.data, gdata.shared_splits(valid, train))
  if gdata.splits_overlap(valid, train, sizes):
    raise ConfigError(
      f"eval.parzen_valid_split={valid!r} shares images with "
      f"data.train_split={train!r}; hold them out of training, "
      "e.g. train on 'train[:50000]' and validate on 'train[50000:]'."
    )


def parzen_estimate(valid, test, centres, sigmas) -> tuple:
  """(mean, standard error, sigma) of the Parzen log-likelihood of `test` (nats) with
  kernels on `centres`, sigma the one of `sigmas` best on `valid`; pixels on [0, 1]."""
  sigma, _ = parzen.select_sigma(valid, centres, sigmas)
  mean, se = parzen.mean_and_stderr(parzen.parzen_log_likelihood(test, centres, [sigma])[0])
  return mean, se, sigma


@register("parzen")
def _parzen(entry, ctx):
  """Goodfellow et al.'s Parzen-window log-likelihood of the test split (nats), sigma
  chosen on eval.parzen_valid_split: held-out images that are neither trained on nor
  kernel centres (a config where they overlap is refused when the evaluator is built).
  Biased and high-variance in many dimensions (Theis et al. 2016); a poor sampler can
  score high. Pixels on [0, 1].

  With entry.train_set (default True) the same estimate with the training images as the
  kernel centres, eval/parzen_ll_train_set: what the estimator gives a model that
  memorised the training set (computed once: it is the data's). entry.train_set_num > 0
  takes that many training images (a fixed random subset, the same for every run) instead
  of all: the estimate grows with the number of centres, so a reference at the samples'
  own n is the like-for-like one; eval/parzen_n and eval/parzen_n_train_set say both."""
  cfg = ctx.config
  if ctx.experiment.sample is None:
    return None
  check_parzen_held_out(cfg)
  sample_fn = sampler(ctx)
  num = int(entry.get("num_samples", 0) or cfg.eval.get("parzen_samples", 10_000))
  sigmas = [float(s) for s in cfg.eval.get("parzen_sigmas", (0.05, 0.1, 0.2))]
  valid_split = cfg.eval.get("parzen_valid_split", "validation")
  unit = lambda x: (np.asarray(x, np.float32) + 1.0) / 2.0
  data = {}

  def run(state):
    if not data:  # loaded on first use, the training-set row computed once
      data["valid"] = unit(gdata.load_split(cfg.data, valid_split)["image"])
      data["test"] = unit(gdata.load_split(cfg.data, cfg.eval.split)["image"])
      data["reference"] = {}
      if entry.get("train_set", True):
        train = unit(gdata.load_split(cfg.data, gdata.train_split(cfg.data))["image"])
        if 0 < int(entry.get("train_set_num", 0)) < len(train):
          chosen = np.random.default_rng(0).permutation(len(train))[: int(entry.train_set_num)]
          train = train[np.sort(chosen)]
        mean, se, sigma = parzen_estimate(data["valid"], data["test"], train, sigmas)
        data["reference"] = {
          "eval/parzen_ll_train_set": mean,
          "eval/parzen_ll_train_set_stderr": se,
          "eval/parzen_sigma_train_set": sigma,
          "eval/parzen_n_train_set": float(len(train)),
        }
    fakes = unit(
      evaluation.draw_samples(
        sample_fn, state, jax.random.fold_in(ctx.key, 7), num, cfg.sample.batch_size
      )
    )
    mean, se, sigma = parzen_estimate(data["valid"], data["test"], fakes, sigmas)
    return {
      "eval/parzen_ll": mean,
      "eval/parzen_ll_stderr": se,
      "eval/parzen_sigma": sigma,
      "eval/parzen_n": float(len(fakes)),
      **data["reference"],
    }

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


# --- Several samplers of one model ----------------------------------------------------

SWEEP_PREFIX = "eval/sampler_sweep/"


@register("sampler_sweep")
def _sampler_sweep(entry, ctx):
  """Song et al.'s Table 1 protocol for each of the family's samplers (Experiment.samplers,
  e.g. DDIM at S steps and ancestral at T): entry.num_samples (sample.quality_num, 100)
  images in one jitted call, compiled first so that the time is sampling alone, give
  eval/sampler_sweep/<name>_<steps>/images_per_sec and, with a feature network,
  .../fd_<net>, beside eval/sampler_sweep/fd_<net>_floor (real against real at the same
  n). The key is the same for every sampler. Left out for a family with no samplers."""
  exp, cfg = ctx.experiment, ctx.config
  if not exp.samplers:
    return None
  n = int(entry.get("num_samples", 0) or cfg.sample.get("quality_num", 100))
  repl = mesh_lib.replicated(ctx.mesh)
  key = jax.random.fold_in(ctx.key, 17)
  quality = []

  def run(state):
    if ctx.feature_net is not None and not quality:
      quality.append(sample_quality_for(ctx.feature_net, cfg, binary=exp.binary_samples, n=n))
    out = {}
    for name, steps, fn in exp.samplers:
      compiled = jax.jit(fn, static_argnums=2, out_shardings=repl).lower(state, key, n).compile()
      start = time.perf_counter()
      images = np.asarray(jax.block_until_ready(compiled(state, key)))
      row = f"{SWEEP_PREFIX}{name}_{steps}/"
      out[row + "images_per_sec"] = n / (time.perf_counter() - start)
      if quality:
        net = quality[0].net.name
        m = quality[0].metrics(images)
        out[row + f"fd_{net}"] = m[f"eval/fd_{net}"]
        out[f"{SWEEP_PREFIX}fd_{net}_floor"] = m[f"eval/fd_{net}_floor"]
    return out

  return run
