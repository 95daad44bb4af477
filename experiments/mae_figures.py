"""The MAE paper's figures for a trained workdir: masked input / reconstruction / original
(Figure 2), the same model under heavier masking (Figure 4) and the loss curves. The
linear probe of the encoder's features (against a random-init encoder) is the
`linear_probe` evaluator (genjax/eval/evaluators.py; Experiment.features)."""

import os

import jax
import numpy as np

from experiments.figure_helpers import metric_curves, one_per_class
from genjax import data as gdata
from genjax import patches as P
from genjax import viz

_TEST_RATIOS = (0.75, 0.85, 0.95)  # Figure 4: one 0.75 model, heavier masks


def make_all(state, ctx, *, keep, reconstruct) -> list:
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


def _loss_unit(cfg) -> str:
  if cfg.objective.norm_pix_loss:
    return "MSE per masked pixel\n(patch-normalised pixels)"
  return "MSE per masked pixel\n(pixels on [-1, 1])"
