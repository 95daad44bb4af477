"""The comparison's recorded sweep (`launch.compare --sweep`): what was tried before each
family's setting was chosen.

Every entry with `sweep` trains once per setting: its digits default, and each of SWEEP
(its learning rates halved and doubled, its width halved and doubled), at seed 0 and the
comparison's budget, measured like the comparison's runs (sample quality on the same
features and n; bits/dim where the family has a likelihood). The default is trained again
here rather than read from the comparison so that a family's points ran one after
another, at the same speed of the machine: a budget in seconds makes the steps reached
depend on it (the comparison's DDPM runs reached 720 to 800 steps in 90 s; a sweep run
beside a lighter load 1,020). Runs live in <workdir>/sweep/<entry>/<setting>/seed_0 and
are resumed like the comparison's; sweep.md and sweep.json hold the table.

The rule for choosing: a setting replaces the default when its Fréchet distance is below
the default's (in the sweep) by more than the standard deviation over the comparison's
seeds (one seed of a setting is otherwise within the noise); the chosen setting is the
entry's `tuned` in experiments/comparison.py, and the table marks it.
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
    config = config_for(e, setting, smoke=smoke, data_dir=data_dir, budget_s=budget_s)
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
    text = markdown(table, budget_s=config.train.time_budget_s, sd=_seed_sd(workdir))
    f.write(text.replace("sweep\n", "sweep (smoke: not results)\n", 1) if smoke else text)
  return table


def _seed_sd(workdir: str) -> dict:
  """{entry: standard deviation over the comparison's seeds of its Fréchet distance}, from
  its results.json where it has been written."""
  path = os.path.join(workdir, "results.json")
  if not os.path.exists(path):
    return {}
  with open(path, encoding="utf-8") as f:
    families = json.load(f)["families"]
  return {n: fam["sd"].get(f"eval/fd_{NET}") for n, fam in families.items()}


def better(row: dict, default: dict, sd) -> bool:
  """The rule: a Fréchet distance below the default's by more than the seeds' standard
  deviation `sd` (none measured: never)."""
  if row["diverged"] or default["diverged"] or sd is None or not math.isfinite(sd):
    return False
  return row["fd"] < default["fd"] - sd


def markdown(table: dict, *, budget_s: float, sd: dict) -> str:
  lines = [
    "# What was tried: the comparison's sweep",
    "",
    f"One seed (0) per setting, {budget_s:g} s of training each, measured as the "
    "comparison's runs. A setting scales the digits default's learning rates (G's and "
    "D's alike) or its width (every layer's channels or units); the default is trained "
    "again beside them. A setting replaces the default when its Fréchet distance is below "
    "the default's by more than the standard deviation over the comparison's seeds; "
    "**bold** is each family's chosen setting, ✓ one the rule prefers to the default.",
    "",
    "| family | setting | Fréchet distance ↓ (floor) | test bits/dim ↓ | steps in the budget |",
    "|---|---|---:|---:|---:|",
  ]
  for name, rows in table.items():
    default = next(r for r in rows if r["setting"] == "default")
    for row in rows:
      if row["diverged"]:
        fd = f"diverged: {row['diverged']}"
      else:
        fd = f"{row['fd']:.1f} ({row['fd_floor']:.1f})"
      if row is not default and better(row, default, sd.get(name)):
        fd += " ✓"
      setting = f"**{row['setting']}**" if row["chosen"] else row["setting"]
      bpd = "—" if row["bits_per_dim"] is None else f"{row['bits_per_dim']:.3f}"
      steps = "—" if row["steps"] is None else f"{row['steps']:,}"
      lines.append(f"| {name} | {setting} | {fd} | {bpd} | {steps} |")
  sds = ", ".join(
    f"{n} {v:.1f}" for n, v in sd.items() if n in table and v is not None and math.isfinite(v)
  )
  lines += [
    "",
    "Standard deviation of each family's Fréchet distance over the comparison's seeds "
    f"(its chosen setting): {sds or 'not yet measured'}.",
    "",
  ]
  return "\n".join(lines)
