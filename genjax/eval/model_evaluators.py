"""Evaluators of a model itself or of its data: the family's per-example metrics over a
split, a linear probe of its representation, translation error against a known map, and
the binarisation floor of dynamically binarised data."""

import math

import jax
import numpy as np

from genjax import data as gdata
from genjax.eval.registry import register
from genjax.eval.sample_evaluators import labelled_reference
from genjax.train import evaluation
from genjax.train import mesh as mesh_lib

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


# --- Linear probe of a representation -------------------------------------------------


def in_chunks(fn, state, images, chunk: int = 500) -> np.ndarray:
  """fn(state, images) over `images` in fixed-size chunks (the last one padded), so that
  one compilation serves every split."""
  n = len(images)
  padded = np.concatenate([images, np.zeros((-n % chunk,) + images.shape[1:], images.dtype)])
  return np.concatenate(
    [np.asarray(fn(state, padded[i : i + chunk])) for i in range(0, len(padded), chunk)]
  )[:n]


@register("linear_probe")
def _linear_probe(entry, ctx):
  """eval/probe_accuracy: test accuracy (eval.split) of a logistic regression fitted on
  the training split's features (Experiment.features, e.g. an autoencoder's code or
  MAE's pooled encoder output), beside the same probe of the encoder at initialisation
  (eval/probe_accuracy_random_init, init(fold_in(key, 1))) and of the raw pixels
  (eval/probe_accuracy_pixels); both baselines computed once. Left out for a family
  without features."""
  exp, cfg = ctx.experiment, ctx.config
  if exp.features is None:
    return None
  from genjax.eval.probe import linear_probe_accuracy  # pylint: disable=import-outside-toplevel

  repl = mesh_lib.replicated(ctx.mesh)
  features = jax.jit(exp.features, out_shardings=repl)
  data = {}

  def probe(state):
    train, test = data["train"], data["test"]
    return linear_probe_accuracy(
      in_chunks(features, state, train["image"]),
      train["label"],
      in_chunks(features, state, test["image"]),
      test["label"],
    )

  def run(state):
    if not data:
      data["train"] = gdata.load_split(cfg.data, gdata.train_split(cfg.data))
      data["test"] = gdata.load_split(cfg.data, cfg.eval.split)
      fresh = jax.jit(exp.init, out_shardings=repl)(jax.random.fold_in(ctx.key, 1))
      train, test = data["train"], data["test"]
      data["baselines"] = {
        "eval/probe_accuracy_random_init": probe(fresh),
        "eval/probe_accuracy_pixels": linear_probe_accuracy(
          train["image"], train["label"], test["image"], test["label"]
        ),
      }
    return {"eval/probe_accuracy": probe(state), **data["baselines"]}

  return run


# --- Translation error against a known map -------------------------------------------


def translation_errors(name: str, pred, target) -> dict:
  """Mean absolute and root mean squared error per pixel of pred against target."""
  d = np.asarray(pred, np.float64) - np.asarray(target, np.float64)
  return {
    f"eval/translation_mae_{name}": float(np.mean(np.abs(d))),
    f"eval/translation_rmse_{name}": float(np.sqrt(np.mean(d * d))),
  }


@register("translation_error")
def _translation_error(entry, ctx):
  """Where the true map between two domains is known (digits_cycle: T and T^-1), the
  per-pixel error on [-1, 1] of G(x) against T(x) over every image of the first test
  split (_ab) and of F(y) against T^-1(y) over every image of the second (_ba), each
  image once; beside them (computed once) the identity map (_ab_identity) and the best
  intensity-only map fitted on the training domains (_ab_intensity_map). Translations
  are rows 1 (G(x)) and 4 (F(y)) of Experiment.sample_given. Left out for data without
  a known map."""
  exp, cfg = ctx.experiment, ctx.config
  if exp.sample_given is None or cfg.data.name.split("/")[0] != "digits_cycle":
    return None
  from genjax.data.digits_cycle import appearance  # pylint: disable=import-outside-toplevel

  translate = jax.jit(exp.sample_given, out_shardings=mesh_lib.replicated(ctx.mesh))
  chunk = int(entry.get("batch", 100))
  data = {}

  def translated(state, images, row: int) -> np.ndarray:
    pair = lambda state, x: translate(state, {"image_a": x, "image_b": x}, ctx.key)[row]
    return in_chunks(pair, state, images, chunk)

  def run(state):
    if not data:
      split_a, split_b = cfg.eval.split.split(gdata.PAIR_SEP)
      a = gdata.load_split(cfg.data, split_a)["image"]
      b = gdata.load_split(cfg.data, split_b)["image"]
      train_a, train_b = (gdata.load_split(cfg.data, d)["image"] for d in cfg.data.domains)
      t_a, t_b = appearance.transform(a), appearance.inverse_transform(b)
      map_ab = appearance.fit_intensity_map(train_a, appearance.transform(train_a))
      map_ba = appearance.fit_intensity_map(train_b, appearance.inverse_transform(train_b))
      data.update(a=a, b=b, t_a=t_a, t_b=t_b)
      data["baselines"] = {
        **translation_errors("ab_identity", a, t_a),
        **translation_errors("ab_intensity_map", appearance.apply_intensity_map(map_ab, a), t_a),
        **translation_errors("ba_identity", b, t_b),
        **translation_errors("ba_intensity_map", appearance.apply_intensity_map(map_ba, b), t_b),
      }
    return {
      **translation_errors("ab", translated(state, data["a"], 1), data["t_a"]),
      **translation_errors("ba", translated(state, data["b"], 4), data["t_b"]),
      **data["baselines"],
    }

  return run


# --- The binarisation floor of dynamically binarised data -----------------------------


@register("binarization_floor")
def _binarization_floor(entry, ctx):
  """eval/binarization_floor_nll (nats per image) and _bits_per_dim: the mean over the
  eval split of sum_i H(Bernoulli(grey_i)), a lower bound on the test NLL of any model
  of the dynamically binarised data (what a model's eval/nll has left to learn is the
  difference). A property of the data: computed once; left out unless data.binarize is
  'dynamic'."""
  cfg = ctx.config
  if cfg.data.binarize != "dynamic":
    return None
  from genjax.eval import likelihood  # pylint: disable=import-outside-toplevel

  floor = {}

  def run(state):
    del state
    if not floor:
      grey = labelled_reference(cfg, cfg.eval.split, None, binary=False)["image"]
      nats = float(np.mean(likelihood.binarization_entropy((grey + 1.0) / 2.0)))
      floor["eval/binarization_floor_nll"] = nats
      floor["eval/binarization_floor_bits_per_dim"] = nats / (
        likelihood.num_dims(grey.shape[1:]) * math.log(2.0)
      )
    return dict(floor)

  return run
