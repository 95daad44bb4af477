"""The comparison's report.md, results.json and figures, from its measured records."""

import json
import math
import os

import numpy as np

from experiments import comparison, comparison_summary
from experiments import comparison_claims as claims
from genjax import viz

NET = comparison.FEATURE_NET  # metrics are eval/fd_digits, ...
TIME_FIGURE = "quality_vs_train_seconds.png"


def write(
  workdir: str,
  summaries: dict,
  speeds: dict,
  samples: dict,
  *,
  command: str,
  smoke: bool,
  num_seeds: int,
  budget_s: float,
  feature_net,
  curves: dict | None = None,
) -> list:
  """summaries/speeds/samples: {entry name: ...}; curves: {trained entry name: [one
  comparison_summary.quality_curve per run]}. Returns the paths written."""
  every_s = (
    comparison.SMOKE_QUALITY_EVERY_S if smoke else budget_s / comparison.QUALITY_CURVE_POINTS
  )
  mean_curves = {n: comparison_summary.mean_curve(c) for n, c in (curves or {}).items()}
  mean_curves = {n: c for n, c in mean_curves.items() if c}
  figures = os.path.join(workdir, "figures")
  paths = [
    _sample_figure(os.path.join(figures, "samples.png"), samples),
    _quality_figure(os.path.join(figures, "sample_quality.png"), summaries),
    _time_figure(
      os.path.join(figures, TIME_FIGURE),
      mean_curves,
      floor=_floor(summaries),
      num_seeds=num_seeds,
      every_s=every_s,
    ),
  ]
  results = {
    "date": comparison.now(),
    "command": command,
    "smoke": smoke,
    "num_seeds": num_seeds,
    "budget_s": budget_s,
    "feature_net_test_accuracy": feature_net.accuracy,
    "quality_samples": (comparison.SMOKE_QUALITY_SAMPLES if smoke else comparison.QUALITY_SAMPLES),
    "parzen_samples": comparison.PARZEN_SAMPLES,
    "quality_every_s": every_s,
    "families": {name: {**summaries[name], "sampling": speeds.get(name, {})} for name in summaries},
    # Fréchet distance against training seconds, mean (and sd) over seeds
    "quality_vs_train_seconds": mean_curves,
    "sweep": os.path.exists(os.path.join(workdir, "sweep.md")),
  }
  path = os.path.join(workdir, "results.json")
  with open(path, "w", encoding="utf-8") as f:
    json.dump(results, f, indent=2)
  paths.append(path)
  path = os.path.join(workdir, "report.md")
  with open(path, "w", encoding="utf-8") as f:
    f.write(markdown(results))
  paths.append(path)
  return [p for p in paths if p]


def _cell(summary, key, fmt="{:.1f}", floor=None) -> str:
  mean = summary["mean"].get(key)
  if mean is None or not math.isfinite(mean):
    return "—"
  text = fmt.format(mean)
  sd = summary["sd"].get(key, float("nan"))
  if math.isfinite(sd):
    text += " ± " + fmt.format(sd)
  if floor is not None and summary["mean"].get(floor) is not None:
    text += f" ({fmt.format(summary['mean'][floor])})"
  return text


def markdown(results: dict) -> str:
  entries = {e.name: e for e in comparison.ENTRIES}
  seeds = results["num_seeds"]
  spread = f"mean ± standard deviation over {seeds} seeds" if seeds > 1 else "one seed"
  lines = [
    "# The generative families compared"
    + (" (smoke: seconds of training, not results)" if results["smoke"] else ""),
    "",
    f"Measured {results['date']} by `{results['command']}`; {spread}; every run trained "
    f"for {results['budget_s']:g} s.",
    "",
    "| family | model | Fréchet distance ↓ (floor) | precision (floor) | recall (floor) "
    "| classes covered (of 10) | class entropy, nats (max 2.30) | sharpness (floor) "
    "| test bits/dim ↓ | Parzen window, nats ↑ (training digits, same n): not a likelihood "
    "bound "
    "| images/s at batch 100 | network evals per image | train steps "
    "reached | train seconds | parameters evaluated | runs diverged; collapsed |",
    "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|",
  ]
  for name, fam in results["families"].items():
    e = entries[name]
    speed = fam["sampling"]
    lines.append(
      "| "
      + " | ".join(
        [
          name,
          e.model
          + (f"; {comparison.setting_name(e.tuned)} (chosen by the sweep)" if e.tuned else ""),
          _cell(fam, f"eval/fd_{NET}", "{:.1f}", f"eval/fd_{NET}_floor"),
          _cell(fam, f"eval/precision_{NET}", "{:.3f}", f"eval/precision_{NET}_floor"),
          _cell(fam, f"eval/recall_{NET}", "{:.3f}", f"eval/recall_{NET}_floor"),
          _cell(fam, "eval/classes_covered", "{:.1f}"),
          _cell(fam, "eval/class_entropy", "{:.2f}"),
          _cell(fam, "eval/sharpness", "{:.2f}", "eval/sharpness_floor"),
          _likelihood(fam, e),
          _parzen(fam),
          f"{speed['eval/sample_images_per_sec']:.4g}" if speed else "—",
          f"{speed['eval/network_evals_per_image']:.0f}" if speed else "—",
          _cell(fam, "step", "{:.0f}"),
          _cell(fam, "train_seconds", "{:.0f}"),
          fam.get("parameters", ""),
          _stability(fam),
        ]
      )
      + " |"
    )
  lines += [
    "",
    _PROTOCOL.format(
      acc=100 * results["feature_net_test_accuracy"],
      n=results["quality_samples"],
      budget=results["budget_s"],
      collapsed=comparison.COLLAPSED_BELOW_CLASSES,
      parzen_n=results.get("parzen_samples", comparison.PARZEN_SAMPLES),
    ),
    "",
  ]
  curves = results.get("quality_vs_train_seconds", {})
  if curves:
    every = results.get("quality_every_s", results["budget_s"] / comparison.QUALITY_CURVE_POINTS)
    lines += [
      f"[Sample quality against training seconds](figures/{TIME_FIGURE}): each trained "
      "family's Fréchet distance (log scale, lower is better; mean and standard deviation "
      f"over seeds), measured while it trained after every {every:.3g} s of training and "
      "at the end, against the training seconds it had then; the dashed line is the "
      "real-vs-real floor. The order of the lines above a budget is the ranking at that "
      "budget: lines that cross rank differently at a shorter one, and a line still "
      "falling at the right would gain from more time. DDPM's points are of its DDIM-50 "
      "sampler.",
      "",
    ]
    single = sorted(n for n, c in curves.items() if len(c) == 1)
    if single:
      lines += [
        f"Only the final measurement exists for {', '.join(single)} (runs trained before "
        "quality was measured during training): one point each.",
        "",
      ]
  if results.get("sweep"):
    lines += [
      "[What was tried](sweep.md) before each family's setting was chosen: its learning "
      "rate and width halved and doubled, one seed each.",
      "",
    ]
  said = claims.check(results)
  if said:
    lines += ["## What the course notes claim, against these numbers", ""]
    lines += [f"- {c}" for c in said] + [""]
  return "\n".join(lines)


def _stability(fam) -> str:
  text = f"{fam['diverged']} of {fam['runs']}"
  if fam.get("diverged_seeds"):
    text += f" (seeds {', '.join(map(str, fam['diverged_seeds']))})"
  collapsed = fam.get("collapsed_seeds", [])
  text += f"; {len(collapsed)}"
  if collapsed:
    text += f" (seeds {', '.join(map(str, collapsed))})"
  return text


def _parzen(fam) -> str:
  """The Parzen window's estimate (rows with no likelihood) beside the training digits'
  at the same n; "—" for the rows that have bits/dim."""
  text = _cell(fam, "eval/parzen_ll", "{:.1f}")
  ref = fam["mean"].get("eval/parzen_ll_train_set")
  if text != "—" and ref is not None and math.isfinite(ref):
    text += f" ({ref:.1f})"
  return text


def _floor(summaries: dict):
  floors = [
    s["mean"][f"eval/fd_{NET}_floor"]
    for s in summaries.values()
    if f"eval/fd_{NET}_floor" in s["mean"]
  ]
  return float(np.mean(floors)) if floors else None


def _likelihood(fam, entry) -> str:
  bpd = _cell(fam, "eval/bits_per_dim", "{:.3f}")
  if bpd == "—":
    return bpd
  elbo = _cell(fam, "eval/bits_per_dim_elbo", "{:.3f}")
  return f"{bpd} ({entry.likelihood}" + (f"; ELBO {elbo})" if elbo != "—" else ")")


_PROTOCOL = """\
How to read it: every family trains on the embedded digits at their native 8×8 in 8-bit
grey levels for the same {budget:g} seconds (training steps only: not XLA's compilation,
evaluation or saves), and is measured on its test digits. Fréchet distance, precision and recall
(Kynkäänniemi et al. 2019, k = 3) are computed on the features of a digit classifier
(test accuracy {acc:.2f} %), {n} samples against {n} test digits; the value in brackets
is that of {n} real training digits against the same test digits, the floor that finite
samples alone cost. Classes covered counts the digits that
at least 1 % of the samples are classified as; a run covering fewer than {collapsed} has
collapsed. Sharpness is the samples' mean difference between neighbouring pixels over
that of the test digits (1: as sharp; below: blurred; above: noisier). Bits/dim are of
the 8-bit test images: exact for the autoregressive models, upper bounds for the VAE
(importance-weighted) and DDPM (variational); the GANs and the autoencoder have none.
For those three rows the Parzen column is Goodfellow et al.'s (2014) estimate instead, in
nats per test digit (pixels on [0, 1]): a Gaussian kernel on each of {parzen_n} samples,
its width chosen from a grid on the 150 validation digits (neither trained on nor kernel
centres); in brackets, the same estimate with {parzen_n} training digits as the kernels,
what copying the training set scores. It is not a likelihood or a bound on one, it grows
with the number of samples, and a poor sampler can rank high on it (Theis et al. 2016):
compare it within its column only, never with bits/dim.
DDPM's sampler rows evaluate the same trained runs as its first row, so they share its
likelihood. Sampling speed is the best of 3 timed calls of the jitted sampler after one
that compiles, on this machine, in this invocation; network evaluations
per image count the sequential network calls one image costs. Each family's own figures:
`python -m launch.reproduce --workdir=<this directory>/<family>/seed_0`.
"""


def _sample_figure(path, samples: dict):
  if not samples:
    return None
  rows = {name: viz.to_unit(x) for name, x in samples.items()}
  return viz.labeled_rows(
    path,
    rows,
    title="samples of each family (8×8 digits)",
    note="first samples of each run's sampler, not selected",
  )


def _quality_figure(path, summaries: dict):
  """Fréchet distance per family with its floor, and precision against recall."""
  import jax  # pylint: disable=import-outside-toplevel

  if jax.process_index() != 0 or not summaries:
    return path
  import matplotlib  # pylint: disable=import-outside-toplevel

  matplotlib.use("Agg")
  import matplotlib.pyplot as plt  # pylint: disable=import-outside-toplevel

  names = [n for n, s in summaries.items() if f"eval/fd_{NET}" in s["mean"]]
  if not names:
    return None
  mean = lambda n, k: summaries[n]["mean"][k]
  sd = [summaries[n]["sd"].get(f"eval/fd_{NET}", float("nan")) for n in names]
  fig, (left, right) = plt.subplots(1, 2, figsize=(max(9.0, 4.5 + 0.45 * len(names)), 4.4), dpi=120)
  xs = np.arange(len(names))
  left.bar(
    xs,
    [mean(n, f"eval/fd_{NET}") for n in names],
    color="tab:blue",
    capsize=3,
    yerr=None if all(math.isnan(s) for s in sd) else np.nan_to_num(sd),
  )
  left.plot(
    xs,
    [mean(n, f"eval/fd_{NET}_floor") for n in names],
    "k_",
    markersize=20,
    label="real-vs-real floor",
  )
  left.set_xticks(xs, names, rotation=55, ha="right", fontsize=8)
  left.set_yscale("log")  # one family an order of magnitude off must not flatten the rest
  left.set_ylabel("Fréchet distance (classifier features, log scale)")
  left.set_title("sample quality (lower is better)")
  left.legend()
  colours = plt.get_cmap("tab20").colors
  for i, n in enumerate(names):  # a legend, not labels: families cluster near real digits
    right.scatter(
      mean(n, f"eval/recall_{NET}"),
      mean(n, f"eval/precision_{NET}"),
      s=30,
      color=colours[i % len(colours)],
      label=n,
    )
  floor = (
    mean(names[0], f"eval/recall_{NET}_floor"),
    mean(names[0], f"eval/precision_{NET}_floor"),
  )
  right.scatter(*floor, marker="*", color="k", s=60)
  right.annotate("real digits", floor, textcoords="offset points", xytext=(4, -10), fontsize=8)
  right.set_xlim(0, 1.05)
  right.set_ylim(0, 1.05)
  right.set_xlabel("recall (fraction of real digits covered)")
  right.set_ylabel("precision (fraction of samples realistic)")
  right.set_title("precision and recall, k = 3")
  right.grid(alpha=0.3)
  right.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.01, 0.5), frameon=False)
  fig.tight_layout()
  return viz.save_figure(fig, path)


def _time_figure(path, curves: dict, *, floor, num_seeds: int, every_s: float):
  """Fréchet distance against training seconds, one line per trained family (mean over
  seeds, bars one standard deviation), the real-vs-real floor dashed."""
  import jax  # pylint: disable=import-outside-toplevel

  if jax.process_index() != 0 or not curves:
    return None
  import matplotlib  # pylint: disable=import-outside-toplevel

  matplotlib.use("Agg")
  from matplotlib import ticker  # pylint: disable=import-outside-toplevel
  import matplotlib.pyplot as plt  # pylint: disable=import-outside-toplevel

  fig, ax = plt.subplots(figsize=(9.0, 5.5), dpi=120)
  # ten colours, then three more: no two of up to 13 trained rows share a colour
  colours = [*plt.get_cmap("tab10").colors, "black", "saddlebrown", "navy"]
  markers = "osD^vP*Xh<>dp"
  for i, (name, points) in enumerate(curves.items()):
    x = np.array([p["train_seconds"] for p in points])
    y = np.array([p["fd"] for p in points])
    sd = np.nan_to_num(np.array([p["fd_sd"] for p in points], dtype=float))
    # on a log axis a bar below zero cannot be drawn: the lower bar stops above it
    yerr = None if not sd.any() else np.stack([np.minimum(sd, 0.95 * y), sd])
    ax.errorbar(
      x,
      y,
      yerr=yerr,
      color=colours[i % len(colours)],
      marker=markers[i % len(markers)],
      markersize=5,
      linewidth=1.5,
      elinewidth=1,
      capsize=3,
      label=name + (" (final only)" if len(points) == 1 else ""),
    )
  if floor is not None:
    label = f"real-vs-real floor ({floor:.3g})"
    ax.axhline(floor, color="k", linestyle="--", linewidth=1, label=label)
  ax.set_yscale("log")
  # plain numbers at 1, 2, 5 x 10^k: Fréchet distances span 30 to a few thousand here
  ax.yaxis.set_major_locator(ticker.LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
  ax.yaxis.set_major_formatter(ticker.FuncFormatter(lambda v, _: f"{v:g}"))
  ax.yaxis.set_minor_formatter(ticker.NullFormatter())
  ax.set_xlim(0, 1.05 * max(p["train_seconds"] for c in curves.values() for p in c))
  ax.set_xlabel("training seconds (training steps only: not compiling, evaluating or saving)")
  ax.set_ylabel("Fréchet distance (classifier features, log scale)")
  spread = f"mean ± sd over {num_seeds} seeds" if num_seeds > 1 else "one seed"
  ax.set_title(
    f"sample quality against training time (lower is better; {spread}, "
    f"measured every {every_s:.3g} s)",
    fontsize=10,
  )
  ax.grid(alpha=0.3, which="both")
  ax.legend(fontsize=8, loc="center left", bbox_to_anchor=(1.01, 0.5), frameon=False)
  fig.tight_layout()
  return viz.save_figure(fig, path)
