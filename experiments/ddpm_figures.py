"""The DDPM and DDIM papers' figures for a trained workdir: samples, progressive
generation (Ho et al. Figure 6), interpolation in x_t (Figure 8), inpainting, and the
table of sample quality against the number of sampling steps (Song et al. Table 1,
steps_vs_quality.md) drawn from the `sampler_sweep` evaluator's results."""

import functools
import os
import re

import jax
import jax.numpy as jnp
import numpy as np

from experiments.figure_helpers import has_every_class, metric_curves, one_per_class
from genjax import data as gdata
from genjax import diffusion, viz
from genjax.eval import evaluators, likelihood


def make_all(state, ctx, *, schedule, generate, denoise_from, inpaint) -> list:
  cfg = ctx.config
  params = state.ema_params
  T = schedule.num_timesteps
  test = gdata.load_split(cfg.data, cfg.eval.split)
  x, labels = test["image"], test["label"]
  out = ctx.figures_dir
  u = viz.to_unit
  keys = dict(
    zip(("samples", "progressive", "interp", "inpaint", "quality"), jax.random.split(ctx.key, 5))
  )  # "quality": unused, kept so that the other figures' keys stay as they were
  paths = []

  def sampler(name, steps=T, return_path=False):
    return jax.jit(
      functools.partial(generate, sampler=name, ddim_steps=steps, return_path=return_path),
      static_argnums=2,
    )

  ancestral = sampler("ancestral")
  paths.append(
    viz.save_grid(
      os.path.join(out, "samples_ancestral.png"),
      u(ancestral(params, keys["samples"], 100)),
      ncol=10,
    )
  )
  ddim = sampler("ddim", min(50, T))
  paths.append(
    viz.save_grid(
      os.path.join(out, f"samples_ddim{min(50, T)}.png"),
      u(ddim(params, keys["samples"], 100)),
      ncol=10,
    )
  )

  # Figure 6: x̂_0 predicted from x_t along one reverse chain, at 10 times and the end.
  final, path = sampler("ancestral", return_path=True)(params, keys["progressive"], 8)
  picks = np.linspace(0, T - 1, 10).round().astype(int)
  rows = {
    f"chain {i + 1}": np.concatenate([u(path[picks, i]), u(final[i][None])]) for i in range(8)
  }
  times = ", ".join(str(T - int(p)) for p in picks)
  paths.append(
    viz.labeled_rows(
      os.path.join(out, "progressive.png"),
      rows,
      title="progressive generation",
      note=f"left to right: x̂₀ predicted from x_t at t = {times}; last, the sample x₀",
    )
  )

  # Figure 8: diffuse two test digits to t, mix linearly, denoise with the same noise.
  t_mix = max(1, T // 2)
  first = one_per_class(labels)
  every_class = has_every_class(labels)  # else the pairs are of the first ten images
  pairs = [(0, 1), (3, 8), (4, 9), (2, 7), (5, 6)]
  lams = np.linspace(0.0, 1.0, 9, dtype=np.float32)
  rows = {}
  for j, (a, b) in enumerate(pairs):
    k_a, k_b, k_rev = jax.random.split(jax.random.fold_in(keys["interp"], j), 3)
    x0 = x[[first[a], first[b]]]
    t = jnp.full((2,), t_mix - 1)
    xt = diffusion.q_sample(
      schedule,
      x0,
      t,
      jnp.stack([jax.random.normal(k_a, x0.shape[1:]), jax.random.normal(k_b, x0.shape[1:])]),
    )
    mixed = (1 - lams)[:, None, None, None] * xt[0] + lams[:, None, None, None] * xt[1]
    # One reverse noise for the whole row: rows differ only by λ (the paper fixes it too).
    dec = jax.vmap(lambda m: denoise_from(params, k_rev, m[None], t_mix)[0])(mixed)
    name = f"classes {a} and {b}" if every_class else f"test images {a + 1} and {b + 1}"
    rows[name] = np.concatenate([u(x0[:1]), u(dec), u(x0[1:])])
  paths.append(
    viz.labeled_rows(
      os.path.join(out, "interpolation.png"),
      rows,
      title=f"interpolation in x_t, t = {t_mix}",
      note="ends: the two test images; between, denoised: (1 − λ) x_t(left) + λ x_t(right), "
      "λ = 0 … 1",
    )
  )

  # Inpainting: the lower half of one test digit per class is generated, 4 times.
  x0 = likelihood.from_bins(likelihood.to_bins(jnp.asarray(x[first])))
  h = x0.shape[1]
  mask = jnp.broadcast_to((jnp.arange(h) < h // 2)[None, :, None, None], x0.shape)
  completions = [
    inpaint(params, jax.random.fold_in(keys["inpaint"], i), x0, mask.astype(jnp.float32))
    for i in range(4)
  ]
  masked = jnp.where(mask, x0, 0.0)
  rows = {"top half given": u(masked)}
  rows.update({f"inpainted {i + 1}": u(c) for i, c in enumerate(completions)})
  rows["original"] = u(x0)
  paths.append(viz.labeled_rows(os.path.join(out, "inpainting.png"), rows))

  paths.append(steps_vs_quality(os.path.join(out, "steps_vs_quality.md"), ctx))
  curve = metric_curves(
    os.path.join(out, "loss.png"),
    ctx.workdir,
    {"train/loss": "L_simple (train minibatch)"},
    ylabel="squared error of ε, mean per pixel",
    title="DDPM training loss",
    logx=True,
  )
  return [p for p in paths + [curve] if p]


def steps_vs_quality(path, ctx) -> str | None:
  """The `sampler_sweep` evaluator's results (ctx.evaluation) as a Markdown table:
  Fréchet distance on the digit classifier's features and samples/s per sampler and
  step count. None when the evaluator did not run on this checkpoint."""
  rows, fd_name, floor = {}, None, None
  for key, value in (ctx.evaluation or {}).items():
    rest = key.removeprefix(evaluators.SWEEP_PREFIX)
    row = re.fullmatch(r"(\w+)_(\d+)/(.+)", rest)
    if key == rest:
      continue
    if row:
      rows.setdefault((row[1], int(row[2])), {})[row[3]] = value
    elif rest.startswith("fd_") and rest.endswith("_floor"):
      fd_name, floor = rest.removeprefix("fd_").removesuffix("_floor"), value
  if not rows:
    return None
  lines = [
    f"| sampler | steps S | FD {fd_name or '(no feature net)'} | FD floor | samples/s |",
    "|---|---:|---:|---:|---:|",
  ]
  fmt = lambda v: "n/a" if v is None else f"{v:.2f}"
  # DDIM by steps, then ancestral, as Song et al.'s table
  for (name, steps), r in sorted(rows.items(), key=lambda kv: (kv[0][0] != "ddim", kv[0][1])):
    label = "DDIM, η = 0" if name == "ddim" else "ancestral (DDPM)"
    fd = fmt(r.get(f"fd_{fd_name}"))
    lines.append(f"| {label} | {steps} | {fd} | {fmt(floor)} | {r['images_per_sec']:.1f} |")
  if jax.process_index() == 0:
    with open(path, "w", encoding="utf-8") as f:
      f.write("\n".join(lines) + "\n")
  return path
