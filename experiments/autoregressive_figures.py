"""Figures of a trained autoregressive model: samples, completions of test images whose
bottom half is hidden (PixelRNN's Figure 1: occluded, completions, original, here as
labelled rows), one row per class for a class-conditional model, and the NLL curves.

How often a class-conditional sample is of the class it was drawn for, and for
dynamically binarised data the floor no model's NLL can beat, are the evaluators
`class_accuracy` and `binarization_floor` (genjax/eval/evaluators.py)."""

import os

import jax
import jax.numpy as jnp
import numpy as np

from experiments.figure_helpers import metric_curves, one_per_class
from genjax import autoregressive as ar
from genjax import data as gdata
from genjax import viz

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
  return [p for p in paths if p]
