"""The GAN papers' figures for a trained workdir.

Goodfellow et al. (2014): samples with the nearest training example of the sample beside
it (Figure 2: the model does not copy). Radford et al. (2015): latent interpolation
(Figure 4) and latent vector arithmetic (Figure 7, with latent_arithmetic.json: the
numbers the picture shows). Plus sample grids over training and the loss curves.

The numbers a table reports are evaluators (genjax/eval/evaluators.py, config.evals):
the Parzen-window log-likelihood of Table 1 (`parzen`, beside the training set as the
samples) and mode coverage (`sample_quality`: classes covered and class entropy, of the
samples and of the test digits).
"""

import glob
import json
import math
import os

import jax
import numpy as np

from experiments.figure_helpers import metric_curves
from genjax import data as gdata
from genjax import viz


def make_all(state, ctx, *, generate, latent, d_is_probability: bool) -> list:
  """`generate(z) -> images in [-1, 1]` and `latent(key, n) -> z` from the prior close
  over `state`; `d_is_probability`: whether D's outputs are sigma(logit), as for the
  cross-entropy losses."""
  del state
  cfg, out = ctx.config, ctx.figures_dir
  keys = dict(zip(("grid", "pool", "interp", "noise", "parzen"), jax.random.split(ctx.key, 5)))
  u = viz.to_unit
  paths = []

  z_pool, pool = _draw(
    generate, latent, keys["pool"], max(cfg.eval.mode_samples, 100), cfg.sample.batch_size
  )
  paths.append(viz.save_grid(os.path.join(out, "samples.png"), u(pool[:100]), ncol=10))
  paths.append(
    samples_over_training(
      os.path.join(out, "samples_over_training.png"), os.path.join(ctx.workdir, "samples")
    )
  )

  train = gdata.load_split(cfg.data, gdata.train_split(cfg.data))["image"]
  paths.append(
    nearest_neighbours(
      os.path.join(out, "nearest_neighbours.png"), pool[:48].reshape(8, 6, *pool.shape[1:]), train
    )
  )

  za, zb = latent(keys["interp"], 8), latent(jax.random.fold_in(keys["interp"], 1), 8)
  t = np.linspace(0.0, 1.0, 10)[None, :, None]
  path_z = (1.0 - t) * np.asarray(za)[:, None] + t * np.asarray(zb)[:, None]
  rows = np.asarray(generate(path_z.reshape(-1, za.shape[-1]).astype(np.float32)))
  paths.append(viz.save_grid(os.path.join(out, "interpolation.png"), u(rows), ncol=10))

  net = ctx.feature_net
  if net is not None:
    probs = net.outputs(pool)[0]
    arith_path, arith = latent_arithmetic(
      os.path.join(out, "latent_arithmetic.png"), generate, net, z_pool, pool, probs, keys["noise"]
    )
    if arith_path:
      paths.append(arith_path)
      path = os.path.join(out, "latent_arithmetic.json")
      if jax.process_index() == 0:
        with open(path, "w", encoding="utf-8") as f:
          json.dump({"step": ctx.step, "rows": arith}, f, indent=2)
      paths.append(path)
  paths.extend(
    training_curves(out, ctx.workdir, cfg.objective.discriminator_loss, d_is_probability)
  )
  return [p for p in paths if p]


def _draw(generate, latent, key, n: int, batch: int):
  """n latents and their images, `batch` at a time."""
  zs, xs = [], []
  for i, start in enumerate(range(0, n, batch)):
    z = latent(jax.random.fold_in(key, i), min(batch, n - start))
    zs.append(np.asarray(z))
    xs.append(np.asarray(generate(z)))
  return np.concatenate(zs), np.concatenate(xs)


# --- Figures ------------------------------------------------------------------------


def samples_over_training(path, samples_dir, per_row: int = 10, max_rows: int = 12):
  """One row per saved sample grid (samples/step_N.npz), the same first latents each time
  (the loop samples with a per-step key, so rows differ in z as well as in training)."""
  files = sorted(glob.glob(os.path.join(samples_dir, "step_*.npz")))
  if not files:
    return None
  if len(files) > max_rows:
    files = [files[i] for i in np.linspace(0, len(files) - 1, max_rows).round().astype(int)]
  rows = {_step_label(f): np.load(f)["images"][:per_row] for f in files}
  if any(len(r) < per_row for r in rows.values()):
    return None
  return viz.labeled_rows(path, rows, title="samples over training")


def _step_label(npz_path: str) -> str:
  """samples/step_0000500.npz -> "step 500"."""
  name = os.path.splitext(os.path.basename(npz_path))[0]
  return f"step {int(name.removeprefix('step_'))}"


def nearest_neighbours(path, samples, train):
  """Goodfellow et al.'s Figure 2: rows of samples, and in the rightmost column the
  training image closest (in pixel space) to the sample beside it."""
  last = samples[:, -1].reshape(samples.shape[0], -1)
  flat = train.reshape(train.shape[0], -1)
  d2 = np.sum(last**2, 1)[:, None] - 2.0 * last @ flat.T + np.sum(flat**2, 1)[None]
  nn_imgs = train[np.argmin(d2, axis=1)]
  grid = np.concatenate([samples, nn_imgs[:, None]], axis=1)
  nrow, ncol = grid.shape[:2]
  tiles = viz.to_unit(grid.reshape(nrow * ncol, *grid.shape[2:]))
  img = viz.make_grid(tiles, ncol=ncol)
  # A coloured line before the neighbour column tells it apart from the samples.
  h, w = grid.shape[2:4]
  x0 = (ncol - 1) * (w + 1)
  img = np.repeat(img, 3, axis=-1) if img.shape[-1] == 1 else img
  img[:, x0, :] = (1.0, 0.2, 0.2)
  return viz.save_png(path, img, upscale=viz.auto_upscale(h))


def latent_arithmetic(
  path, generate, net, z, images, probs, key, *, source=None, group: int = 20, max_targets: int = 5
):
  """DCGAN's Figure 7 on digits: z̄(thick a) − z̄(thin a) + z̄(thin c) ≈ z of a thick c.

  Groups are samples the classifier is sure of (p > 0.9), split by ink (mean brightness):
  the `group` with the most and the least ink. Each row shows G(z̄) of the three groups,
  then G of the result and of the result plus uniform noise of ±0.25 (as the paper).
  Returns (path, numbers): for each target c, the ink of G(z̄(thin c)) and of the result,
  and the classifier's probability of c for the result (the class should survive).
  """
  labels, conf = np.argmax(probs, 1), np.max(probs, 1)
  ink = viz.to_unit(images).reshape(len(images), -1).mean(1)

  def groups(c):
    idx = np.flatnonzero((labels == c) & (conf > 0.9))
    if len(idx) < 2 * group:
      return None
    order = idx[np.argsort(ink[idx])]
    return z[order[-group:]].mean(0), z[order[:group]].mean(0)

  counts = np.bincount(labels[conf > 0.9], minlength=probs.shape[1])
  by_count = [int(c) for c in np.argsort(-counts)]
  source = by_count[0] if source is None else source
  src = groups(source)
  if src is None:
    return None, None
  targets = [(c, g) for c in by_count if c != source for g in [groups(c)] if g is not None]
  targets = targets[:max_targets]
  if not targets:
    return None, None
  rows, numbers = {}, []
  for c, (_, thin_c) in targets:
    result = src[0] - src[1] + thin_c
    noise = np.asarray(
      jax.random.uniform(jax.random.fold_in(key, c), (4, z.shape[1]), minval=-0.25, maxval=0.25)
    )
    zs = np.stack([src[0], src[1], thin_c, result, *(result + noise)]).astype(np.float32)
    out = np.asarray(generate(zs))
    rows[f"target class {c}"] = viz.to_unit(out)
    p_out = net.outputs(out[3:])[0]
    unit = viz.to_unit(out).reshape(len(out), -1).mean(1)
    numbers.append(
      {
        "source_class": source,
        "target_class": c,
        "ink_thin_target": float(unit[2]),
        "ink_result": float(unit[3]),
        "ink_result_with_noise": float(unit[4:].mean()),
        "p_target_class_result": float(p_out[:, c].mean()),
      }
    )
  note = (
    f"left to right: G of z̄(thick {source}), z̄(thin {source}), z̄(thin target); "
    "G of the result z̄(thick) − z̄(thin) + z̄(thin target); result + noise ±0.25, 4 times"
  )
  title = f"latent arithmetic: the ink of class {source} given to others"
  return viz.labeled_rows(path, rows, title=title, note=note), numbers


def training_curves(out, workdir, discriminator_loss: str, d_is_probability: bool) -> list:
  loss_unit = "nats per image" if d_is_probability else f"{discriminator_loss}, per image"
  d_unit = "probability of real, σ(logit)" if d_is_probability else "raw output"
  log_norm = lambda v: math.log10(max(v, 1e-12))
  curves = [
    (
      "losses.png",
      {"train/d_loss": "D loss", "train/g_loss": "G loss"},
      f"loss ({loss_unit})",
      "discriminator and generator losses",
    ),
    (
      "grad_norms.png",
      {"train/g_grad_norm": ("|grad G|", log_norm), "train/d_grad_norm": ("|grad D|", log_norm)},
      "log10 gradient norm\n(L2 over all parameters)",
      "gradient norms (G's vanishes when it saturates)",
    ),
    (
      "discriminator_outputs.png",
      {"train/d_real": "D(x)", "train/d_fake": "D(G(z))"},
      f"mean D output\n({d_unit})",
      "D on real and generated images",
    ),
  ]
  paths = [
    metric_curves(os.path.join(out, name), workdir, keys, ylabel=ylabel, title=title)
    for name, keys, ylabel, title in curves
  ]
  return [p for p in paths if p]
