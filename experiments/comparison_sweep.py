"""The comparison's recorded sweep (`launch.compare --sweep`): what was tried before each
family's setting was chosen.

Every entry with `sweep` trains once more per setting of SWEEP (its learning rates halved
and doubled, its width halved and doubled), at seed 0 and the comparison's budget,
measured like the comparison's runs (sample quality on the same features and n; bits/dim
where the family has a likelihood). The default's point is the comparison's own seed-0
run. Runs live in <workdir>/sweep/<entry>/<setting>/seed_0 and are resumed like the
comparison's; sweep.md and sweep.json hold the table.

The rule for choosing: a setting replaces the default when its Fréchet distance is below
the default's mean over the comparison's seeds by more than their standard deviation (one
seed of a setting is otherwise within the noise); the chosen setting is the entry's
`tuned` in experiments/comparison.py, and the table marks it.
"""

import dataclasses
import json
import math
import os

import ml_collections

from experiments import comparison

# Each setting scales one axis of the digits default: a small sweep, 4 runs per entry.
SWEEP = ((("lr", 0.5),), (("lr", 2.0),), (("width", 0.5),), (("width", 2.0),))
NET = comparison.FEATURE_NET


def entries(chosen) -> tuple:
  return tuple(e for e in chosen if e.sweep and not e.of)


def settings(entry, smoke: bool = False) -> tuple:
  """The settings tried for an entry: the default, then SWEEP (and the chosen setting, if
  it is not one of those); with --smoke, which checks the pipeline, one setting of SWEEP."""
  out = ((), *SWEEP[1:2]) if smoke else ((), *SWEEP)
  return out if entry.tuned in out else (*out, entry.tuned)


def run_dir(workdir: str, entry, setting: tuple) -> str:
  """The comparison's own seed-0 run for the entry's chosen setting, else the sweep's."""
  if setting == entry.tuned:
    return comparison.run_dir(workdir, entry, 0)
  name = comparison.setting_name(setting).replace(", ", "_").replace(" ", "")
  return os.path.join(workdir, "sweep", entry.name, name, "seed_0")


def config_for(entry, setting: tuple, **kwargs):
  """The entry's seed-0 comparison config at `setting` (relative to the digits default,
  not to the entry's chosen setting), measured after training only: no quality curve
  and no Parzen window, which choose nothing here."""
  c = comparison.config_for(dataclasses.replace(entry, tuned=setting), seed=0, **kwargs)
  c.evals = ml_collections.ConfigDict(
    {
      name: {**dict(comparison.EVALS[name]), "every": -1}
      for name in ("split_means", "sample_quality")
    }
  )
  return c


def run(workdir: str, chosen, feature_net, *, smoke: bool, data_dir: str, budget_s) -> dict:
  """Trains and measures every setting of every swept entry (resuming, reading back what
  is measured); returns {entry: [{setting, fd, fd_floor, bits_per_dim, steps, diverged}]}
  and writes sweep.md and sweep.json in the workdir."""
  table = {}
  todo = [(e, s) for e in entries(chosen) for s in settings(e, smoke)]
  for i, (e, setting) in enumerate(todo):
    name = comparison.setting_name(setting)
    print(f"== sweep {i + 1} of {len(todo)}: {e.name}, {name}", flush=True)
    kw = dict(smoke=smoke, data_dir=data_dir, budget_s=budget_s)
    config = (
      comparison.config_for(e, seed=0, **kw) if setting == e.tuned else config_for(e, setting, **kw)
    )
    at = dataclasses.replace(e, tuned=setting)
    record = comparison.train_and_measure(at, config, run_dir(workdir, e, setting), feature_net)
    m = record.get("metrics", {})
    table.setdefault(e.name, []).append(
      dict(
        setting=name,
        chosen=setting == e.tuned,
        fd=m.get(f"eval/fd_{NET}"),
        fd_floor=m.get(f"eval/fd_{NET}_floor"),
        bits_per_dim=m.get("eval/bits_per_dim"),
        steps=record.get("step"),
        diverged=record.get("diverged", ""),
      )
    )
  with open(os.path.join(workdir, "sweep.json"), "w", encoding="utf-8") as f:
    json.dump(table, f, indent=2)
  with open(os.path.join(workdir, "sweep.md"), "w", encoding="utf-8") as f:
    text = markdown(table, budget_s=config.train.time_budget_s, spread=_defaults(workdir))
    f.write(text.replace("sweep\n", "sweep (smoke: not results)\n", 1) if smoke else text)
  return table


def _defaults(workdir: str) -> dict:
  """{entry: (mean, standard deviation) over seeds of its Fréchet distance}, from the
  comparison's results.json where it has been written."""
  path = os.path.join(workdir, "results.json")
  if not os.path.exists(path):
    return {}
  with open(path, encoding="utf-8") as f:
    families = json.load(f)["families"]
  key = f"eval/fd_{NET}"
  return {n: (fam["mean"].get(key), fam["sd"].get(key)) for n, fam in families.items()}


def better(row: dict, spread) -> bool:
  """The rule: a Fréchet distance below the default's mean over seeds by more than their
  standard deviation (`spread` = (mean, sd); none measured: never)."""
  mean, sd = spread or (None, None)
  if row["diverged"] or mean is None or sd is None or not math.isfinite(sd):
    return False
  return row["fd"] < mean - sd


def markdown(table: dict, *, budget_s: float, spread: dict) -> str:
  lines = [
    "# What was tried: the comparison's sweep",
    "",
    f"One seed (0) per setting, {budget_s:g} s of training each, measured as the "
    "comparison's runs. A setting scales the digits default's learning rates (G's and "
    "D's alike) or its width (every layer's channels or units). It replaces the default "
    "when its Fréchet distance is below the default's mean over the comparison's seeds by "
    "more than their standard deviation; **bold** is each family's chosen setting, ✓ one "
    "the rule prefers to the default.",
    "",
    "| family | setting | Fréchet distance ↓ (floor) | test bits/dim ↓ | steps in the budget |",
    "|---|---|---:|---:|---:|",
  ]
  for name, rows in table.items():
    for row in rows:
      if row["diverged"]:
        fd = f"diverged: {row['diverged']}"
      else:
        fd = f"{row['fd']:.1f} ({row['fd_floor']:.1f})"
      if row["setting"] != "default" and better(row, spread.get(name)):
        fd += " ✓"
      setting = f"**{row['setting']}**" if row["chosen"] else row["setting"]
      bpd = "—" if row["bits_per_dim"] is None else f"{row['bits_per_dim']:.3f}"
      steps = "—" if row["steps"] is None else f"{row['steps']:,}"
      lines.append(f"| {name} | {setting} | {fd} | {bpd} | {steps} |")
  stats = ", ".join(
    f"{n} {m:.1f} ± {sd:.1f}"
    for n, (m, sd) in spread.items()
    if n in table and m is not None and sd is not None and math.isfinite(sd)
  )
  lines += [
    "",
    "Fréchet distance of each family's comparison runs (its chosen setting), mean ± sd over "
    f"seeds: {stats or 'not yet measured'}.",
    "",
  ]
  return "\n".join(lines)
