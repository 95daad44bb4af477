"""Figures of a trained autoregressive model: samples, completions of test images whose
bottom half is hidden (PixelRNN's Figure 1: occluded, completions, original, here as
labelled rows), one row per class for a class-conditional model, the NLL curves, and for
dynamically binarised data the floor no model can beat (binarization_floor.json).

How often a class-conditional sample is of the class it was drawn for is the evaluator
`class_accuracy` (genjax/eval/evaluators.py), logged with the run's other metrics."""

import json
import os

import jax
import jax.numpy as jnp
import numpy as np

from experiments.figure_helpers import metric_curves, one_per_class
from genjax import autoregressive as ar
from genjax import data as gdata
from genjax import viz
from genjax.eval import likelihood

NUM_COMPLETIONS = 3


def make_all(state, ctx, *, sampler, conditional: bool, num_classes: int) -> list:
  cfg = ctx.config
  params = state.ema_params
  out = ctx.figures_dir
  u = viz.to_unit
  paths = []
  run = jax.jit(sampler, static_argnums=2, static_argnames=("start",))
  k_samples, k_complete, k_classes = jax.random.split(ctx.key, 3)

  labels = jnp.arange(100, dtype=jnp.int32) % num_classes if conditional else None
  paths.append(
    viz.save_grid(
      os.path.join(out, "samples.png"), u(run(params, k_samples, 100, label=labels)), ncol=10
    )
  )

  test = gdata.load_split(cfg.data, cfg.eval.split)
  idx = one_per_class(test["label"])
  x, y = test["image"][idx], test["label"][idx]
  h = x.shape[1]
  start = ar.first_hidden(x.shape[1:], h // 2)
  reps = np.repeat(x, NUM_COMPLETIONS, axis=0)
  done = run(
    params,
    k_complete,
    len(reps),
    given=reps,
    start=start,
    label=jnp.asarray(np.repeat(y, NUM_COMPLETIONS)) if conditional else None,
  )
  done = np.asarray(done).reshape((len(x), NUM_COMPLETIONS) + x.shape[1:])
  occluded = x.copy()
  occluded[:, h // 2 :] = 0.0  # mid-grey: hidden
  rows = {"bottom half hidden": u(occluded)}
  rows.update({f"completion {i + 1}": u(done[:, i]) for i in range(NUM_COMPLETIONS)})
  rows["original"] = u(x)
  paths.append(
    viz.labeled_rows(
      os.path.join(out, "completions.png"), rows, title="the model completes the hidden bottom half"
    )
  )

  if conditional:
    per = 10
    labels = jnp.repeat(jnp.arange(num_classes, dtype=jnp.int32), per)
    drawn = np.asarray(run(params, k_classes, len(labels), label=labels))
    paths.append(
      viz.labeled_rows(
        os.path.join(out, "class_conditional.png"),
        {f"drawn for class {c}": u(drawn[c * per : (c + 1) * per]) for c in range(num_classes)},
      )
    )

  paths.append(
    metric_curves(
      os.path.join(out, "nll.png"),
      ctx.workdir,
      {"train/loss": "train NLL", "eval/nll": "test NLL"},
      ylabel="NLL (nats per image)",
      title="exact negative log-likelihood",
    )
  )
  if cfg.data.binarize == "dynamic":
    paths.append(_binarization_floor(os.path.join(out, "binarization_floor.json"), cfg))
  return [p for p in paths if p]


def _binarization_floor(path, cfg) -> str:
  grey = cfg.data.copy_and_resolve_references()
  grey.binarize = "none"
  test = gdata.load_split(grey, cfg.eval.split)
  nats = float(np.mean(likelihood.binarization_entropy((test["image"] + 1.0) / 2.0)))
  floor = {
    "split": cfg.eval.split,
    "num_images": int(len(test["image"])),
    "nll": nats,
    "bits_per_dim": nats / (likelihood.num_dims(test["image"].shape[1:]) * np.log(2.0)),
    "meaning": "mean over test images of sum_i H(Bernoulli(grey_i)): a lower bound "
    "on the test NLL of any model of the dynamically binarised data",
  }
  with open(path, "w", encoding="utf-8") as f:
    json.dump(floor, f, indent=2)
  return path
