"""CycleGAN's figures: the paper's Figure 1 rows (x, G(x), F(G(x)) and y, F(y), G(F(y))),
the known translation T(x) beside them on digits, and the losses over training. The
translation error against the true map (beside two baselines) is the `translation_error`
evaluator (genjax/eval/evaluators.py)."""

import os

import numpy as np

from experiments.figure_helpers import metric_curves
from genjax import data as gdata
from genjax import viz
from genjax.data.digits_cycle import appearance

_ROWS = 8
_CURVES = {
  k: k.removeprefix("train/")
  for k in ("train/adv_G", "train/adv_F", "train/loss_D_X", "train/loss_D_Y", "train/cycle")
}


def make_all(state, ctx, *, translate, known: bool) -> list:
  cfg = ctx.config
  split_a, split_b = cfg.eval.split.split(gdata.PAIR_SEP)
  test_a = gdata.load_split(cfg.data, split_a)["image"]
  test_b = gdata.load_split(cfg.data, split_b)["image"]
  paths = [*translation_rows(state, ctx, translate, test_a, test_b, known), loss_curves(ctx)]
  return [p for p in paths if p]


def _translate_all(state, translate, xa, xb, key, chunk: int = 100):
  """The six rows of `translate` over equally long xa, xb, `chunk` images at a time."""
  parts = [
    np.asarray(translate(state, {"image_a": xa[i : i + chunk], "image_b": xb[i : i + chunk]}, key))
    for i in range(0, len(xa), chunk)
  ]
  return np.concatenate(parts, axis=1)


def translation_rows(state, ctx, translate, test_a, test_b, known: bool) -> list:
  n = min(_ROWS, len(test_a), len(test_b))
  x, gx, fgx, y, fy, gfy = _translate_all(state, translate, test_a[:n], test_b[:n], ctx.key)
  a_rows = {"x (test, domain A)": x, "G(x): into B": gx}
  b_rows = {"y (test, domain B)": y, "F(y): into A": fy}
  if known:  # The ground truth under the translation: x, G(x), T(x), F(G(x)).
    a_rows["T(x): true translation"] = appearance.transform(x)
    b_rows["T⁻¹(y): true translation"] = appearance.inverse_transform(y)
  a_rows["F(G(x)): back to A"], b_rows["G(F(y)): back to B"] = fgx, gfy
  return [
    viz.labeled_rows(
      os.path.join(ctx.figures_dir, name), {k: viz.to_unit(r) for k, r in rows.items()}
    )
    for name, rows in (("translate_a_to_b.png", a_rows), ("translate_b_to_a.png", b_rows))
  ]


def loss_curves(ctx):
  kind = ctx.config.objective.gan_loss
  return metric_curves(
    os.path.join(ctx.figures_dir, "losses.png"),
    ctx.workdir,
    _CURVES,
    ylabel=f"loss (adversarial: {kind}, mean per D patch;\ncycle: mean L1 per pixel)",
    title="CycleGAN losses",
  )
