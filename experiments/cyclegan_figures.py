"""CycleGAN's figures: the paper's Figure 1 rows (x, G(x), F(G(x)) and y, F(y), G(F(y))),
the known translation T(x) beside them on digits, the losses over training, and the
translation error table against two baselines where the true map is known."""

import json
import os

import jax
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
  if known:
    paths.append(translation_error_table(state, ctx, translate, test_a, test_b))
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


def _errors(pred, target) -> dict:
  d = np.asarray(pred, np.float64) - np.asarray(target, np.float64)
  return {"mae": float(np.mean(np.abs(d))), "rmse": float(np.sqrt(np.mean(d * d)))}


def translation_error_table(state, ctx, translate, test_a, test_b):
  """Test-set MAE and RMSE per pixel ([-1, 1] images) of G against T and F against T^-1,
  beside the identity map and the best intensity-only map fitted on training pairs."""
  cfg = ctx.config
  train_a = gdata.load_split(cfg.data, cfg.data.domains[0])["image"]
  train_b = gdata.load_split(cfg.data, cfg.data.domains[1])["image"]
  n = min(len(test_a), len(test_b))
  rows = _translate_all(state, translate, test_a[:n], test_b[:n], ctx.key)
  # Each direction over its whole test split (the lengths may differ).
  ga = (
    np.concatenate([rows[1], _translate_all(state, translate, test_a[n:], test_a[n:], ctx.key)[1]])
    if len(test_a) > n
    else rows[1]
  )
  fb = (
    np.concatenate([rows[4], _translate_all(state, translate, test_b[n:], test_b[n:], ctx.key)[4]])
    if len(test_b) > n
    else rows[4]
  )
  t_a, t_b = appearance.transform(test_a), appearance.inverse_transform(test_b)
  map_ab = appearance.fit_intensity_map(train_a, appearance.transform(train_a))
  map_ba = appearance.fit_intensity_map(train_b, appearance.inverse_transform(train_b))
  table = {
    "step": ctx.step,
    "A->B": {
      "cyclegan G": _errors(ga, t_a),
      "identity": _errors(test_a, t_a),
      "intensity map": _errors(appearance.apply_intensity_map(map_ab, test_a), t_a),
    },
    "B->A": {
      "cyclegan F": _errors(fb, t_b),
      "identity": _errors(test_b, t_b),
      "intensity map": _errors(appearance.apply_intensity_map(map_ba, test_b), t_b),
    },
    "test_images": {"A": len(test_a), "B": len(test_b)},
  }
  path = os.path.join(ctx.figures_dir, "translation_error.json")
  if jax.process_index() == 0:
    with open(path, "w", encoding="utf-8") as f:
      json.dump(table, f, indent=2)
    for direction in ("A->B", "B->A"):
      print(
        f"{direction}: "
        + "; ".join(
          f"{k} MAE {v['mae']:.4f} RMSE {v['rmse']:.4f}" for k, v in table[direction].items()
        ),
        flush=True,
      )
  return path
