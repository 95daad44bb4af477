"""Figures of a trained autoregressive model: samples, completions of test images whose
bottom half is hidden (PixelRNN's Figure 1 layout: occluded, completions, original),
one row per class for a class-conditional model, the NLL curves, and for dynamically
binarised data the floor no model can beat (binarization_floor.json)."""
import json
import os

import jax
import jax.numpy as jnp
import numpy as np

from genjax import autoregressive as ar
from genjax import data as gdata
from genjax import viz
from genjax.eval import likelihood
from genjax.train.writers import read_metrics

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
  paths.append(viz.save_grid(os.path.join(out, "samples.png"),
                             u(run(params, k_samples, 100, label=labels)), ncol=10))

  test = gdata.load_split(cfg.data, cfg.eval.split)
  idx = _one_per_class(test["label"])
  x, y = test["image"][idx], test["label"][idx]
  h = x.shape[1]
  start = ar.first_hidden(x.shape[1:], h // 2)
  reps = np.repeat(x, NUM_COMPLETIONS, axis=0)
  done = run(params, k_complete, len(reps), given=reps, start=start,
             label=jnp.asarray(np.repeat(y, NUM_COMPLETIONS)) if conditional else None)
  done = np.asarray(done).reshape((len(x), NUM_COMPLETIONS) + x.shape[1:])
  occluded = x.copy()
  occluded[:, h // 2:] = 0.0  # mid-grey: hidden
  rows = np.concatenate([occluded[:, None], done, x[:, None]], axis=1)
  paths.append(viz.save_grid(os.path.join(out, "completions.png"),
                             u(rows.reshape((-1,) + x.shape[1:])), ncol=NUM_COMPLETIONS + 2))

  if conditional:
    per = 10
    labels = jnp.repeat(jnp.arange(num_classes, dtype=jnp.int32), per)
    drawn = run(params, k_classes, len(labels), label=labels)
    paths.append(viz.save_grid(os.path.join(out, "class_conditional.png"), u(drawn), ncol=per))
    from experiments import feature_net  # pylint: disable=import-outside-toplevel
    net = feature_net.for_figures(ctx)
    if net is not None:
      paths.append(_class_accuracy(os.path.join(out, "class_conditional.json"), net,
                                   np.asarray(drawn), np.asarray(labels), test))

  paths.append(_nll_curve(os.path.join(out, "nll.png"), ctx.workdir))
  if cfg.data.binarize == "dynamic":
    paths.append(_binarization_floor(os.path.join(out, "binarization_floor.json"), cfg))
  return [p for p in paths if p]


def _class_accuracy(path, net, drawn, labels, test) -> str:
  """How often the digit classifier names the class a sample was drawn for; the same
  classifier on real test digits, prepared as the training data was, is the reference."""
  said = lambda x: np.argmax(net.outputs(x)[0], axis=-1)
  result = {"num_samples": int(len(drawn)),
            "requested_class_accuracy": float(np.mean(said(drawn) == labels)),
            "test_digits_accuracy": float(np.mean(said(test["image"]) == test["label"])),
            "num_test_digits": int(len(test["image"]))}
  with open(path, "w", encoding="utf-8") as f:
    json.dump(result, f, indent=2)
  return path


def _one_per_class(labels) -> np.ndarray:
  picked = [np.flatnonzero(labels == c)[:1] for c in range(10)]
  return np.concatenate(picked)


def _binarization_floor(path, cfg) -> str:
  grey = cfg.data.copy_and_resolve_references()
  grey.binarize = "none"
  test = gdata.load_split(grey, cfg.eval.split)
  nats = float(np.mean(likelihood.binarization_entropy((test["image"] + 1.0) / 2.0)))
  floor = {"split": cfg.eval.split, "num_images": int(len(test["image"])),
           "nll": nats, "bits_per_dim": nats / (likelihood.num_dims(test["image"].shape[1:])
                                                 * np.log(2.0)),
           "meaning": "mean over test images of sum_i H(Bernoulli(grey_i)): a lower bound "
                      "on the test NLL of any model of the dynamically binarised data"}
  with open(path, "w", encoding="utf-8") as f:
    json.dump(floor, f, indent=2)
  return path


def _nll_curve(path, workdir) -> str | None:
  records = read_metrics(workdir)
  series = {}
  for key, label in (("train/loss", "train NLL"), ("eval/nll", "test NLL")):
    pts = [(r["step"], r[key]) for r in records if key in r]
    if pts:
      series[label] = tuple(zip(*pts))
  if not series:
    return None
  return viz.line_plot(path, series, xlabel="step", ylabel="nats per image",
                       title="exact negative log-likelihood")
