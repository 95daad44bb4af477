"""The MAE paper's figures for a trained workdir: masked input / reconstruction / original
(Figure 2), the same model under heavier masking (Figure 4), the loss curves, and the
linear probe of the encoder's features against a random-init encoder (probe.json)."""

import json
import os

import jax
import numpy as np

from experiments.figure_helpers import metric_curves, one_per_class
from genjax import data as gdata
from genjax import patches as P
from genjax import viz
from genjax.eval.probe import linear_probe_accuracy

_FEATURE_BATCH = 500
_TEST_RATIOS = (0.75, 0.85, 0.95)  # Figure 4: one 0.75 model, heavier masks


def make_all(state, ctx, *, keep, init_params, reconstruct, features) -> list:
  cfg = ctx.config
  params = state.ema_params
  test = gdata.load_split(cfg.data, cfg.eval.split)
  x, labels = test["image"], test["label"]
  p = cfg.model.patch_size
  out = ctx.figures_dir
  idx = one_per_class(labels, per_class=2)
  paths = []

  n = int(np.prod(P.grid_shape(x.shape[1:], p)))
  trained = 1.0 - keep / n
  masked, pasted = _masked_rows(x[idx], reconstruct(params, x[idx], ctx.key, keep), p)
  paths.append(
    viz.labeled_rows(
      os.path.join(out, "reconstructions.png"),
      {
        f"input, {trained:.0%} of\npatches masked": viz.to_unit(masked),
        "reconstruction": viz.to_unit(pasted),
        "original": viz.to_unit(x[idx]),
      },
      note="the reconstruction shows the visible patches as they were",
    )
  )

  rows = {}
  for i, ratio in enumerate(_TEST_RATIOS):
    k = P.num_kept(n, ratio)
    masked, pasted = _masked_rows(
      x[idx], reconstruct(params, x[idx], jax.random.fold_in(ctx.key, i), k), p
    )
    rows[f"{1 - k / n:.0%} masked"] = viz.to_unit(masked)
    rows[f"reconstruction\n({1 - k / n:.0%} masked)"] = viz.to_unit(pasted)
  rows["original"] = viz.to_unit(x[idx])
  paths.append(
    viz.labeled_rows(
      os.path.join(out, "mask_ratios.png"),
      rows,
      title=f"one model trained at {trained:.0%} masked, under heavier masks",
    )
  )

  paths.append(
    metric_curves(
      os.path.join(out, "loss.png"),
      ctx.workdir,
      {"train/loss": "train (masked-patch MSE)", "eval/loss": "test (masked-patch MSE)"},
      ylabel=_loss_unit(cfg),
      title="MAE reconstruction loss",
      logx=True,
    )
  )
  paths.append(
    _probe(
      os.path.join(out, "probe.json"),
      cfg,
      params,
      init_params(jax.random.fold_in(ctx.key, 1)),
      features,
      x,
      labels,
    )
  )
  return [q for q in paths if q]


def _masked_rows(x, recon, patch_size):
  """[masked input, reconstruction with the visible patches pasted back], images in
  [-1, 1]; masked patches are drawn mid-grey, as the paper's grey squares."""
  mask, pred = (np.asarray(a) for a in recon)
  grid = P.grid_shape(x.shape[1:], patch_size)
  c = x.shape[-1]
  target = np.asarray(P.patchify(x, patch_size))
  m = mask[..., None]
  masked = P.unpatchify(target * (1 - m), patch_size, grid, c)
  pasted = P.unpatchify(target * (1 - m) + pred * m, patch_size, grid, c)
  return [np.asarray(masked), np.clip(np.asarray(pasted), -1.0, 1.0)]


def _features(features, params, images) -> np.ndarray:
  """Features in fixed-size chunks (the last one padded) so that one compilation serves
  every split."""
  n = len(images)
  padded = np.concatenate(
    [images, np.zeros((-n % _FEATURE_BATCH,) + images.shape[1:], images.dtype)]
  )
  return np.concatenate(
    [
      np.asarray(features(params, padded[i : i + _FEATURE_BATCH]))
      for i in range(0, len(padded), _FEATURE_BATCH)
    ]
  )[:n]


def _probe(path, cfg, params, random_params, features, test_x, test_y) -> str:
  """Linear-probe test accuracy on mean-pooled encoder features, train -> eval split."""
  train = gdata.load_split(cfg.data, gdata.train_split(cfg.data))
  result = {
    "train_split": gdata.train_split(cfg.data),
    "test_split": cfg.eval.split,
    "num_train": int(len(train["label"])),
    "num_test": int(len(test_y)),
  }
  for name, prm in (("mae", params), ("random_init", random_params)):
    result[f"probe_accuracy_{name}"] = linear_probe_accuracy(
      _features(features, prm, train["image"]),
      train["label"],
      _features(features, prm, test_x),
      test_y,
    )
  if jax.process_index() == 0:
    with open(path, "w", encoding="utf-8") as f:
      json.dump(result, f, indent=2)
    print(
      f"Linear probe ({result['test_split']} accuracy): MAE encoder "
      f"{result['probe_accuracy_mae']:.4f}, random-init encoder "
      f"{result['probe_accuracy_random_init']:.4f}.",
      flush=True,
    )
  return path


def _loss_unit(cfg) -> str:
  if cfg.objective.norm_pix_loss:
    return "MSE per masked pixel\n(patch-normalised pixels)"
  return "MSE per masked pixel\n(pixels on [-1, 1])"
