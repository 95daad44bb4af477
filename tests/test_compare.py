"""launch.compare: every family under one protocol, one report, resumable."""

import json
import math
import os

import pytest

from experiments import comparison, comparison_claims, comparison_report, comparison_summary
from genjax.errors import ConfigError
from tests.conftest import run_launch


def test_every_family_is_configured_by_the_same_protocol():
  for entry in comparison.ENTRIES:
    for smoke in (False, True):
      c = comparison.config_for(entry, smoke=smoke, seed=1)
      assert (c.data.name, c.data.binarize, c.data.train_split, c.eval.split, c.seed) == (
        "digits",
        "none",
        "train",
        "test",
        1,
      ), entry.name
      assert c.eval.fd_num_samples == (
        comparison.SMOKE_QUALITY_SAMPLES if smoke else comparison.QUALITY_SAMPLES
      )
      no_likelihood = ("gan", "gan_paper", "dcgan", "dcgan_paper", "autoencoder")
      parzen = {"parzen"} if entry.name in no_likelihood else set()
      assert c.train.ema_warmup  # every family's average warms up alike
      assert set(c.evals) == set(comparison.EVALS) | parzen, entry.name
      assert c.train.eval_every == 0  # no step cadence
      # Sample quality while training, every budget / 6 training seconds, for the rows
      # that train; DDPM's sampler rows evaluate the finished DDPM runs only.
      quality = c.evals.sample_quality
      if entry.of:
        assert (quality.every, quality.get("every_s", 0.0)) == (-1, 0.0), entry.name
      else:
        assert quality.every == 0
        every_s = c.train.time_budget_s / comparison.QUALITY_CURVE_POINTS
        assert quality.every_s == (comparison.SMOKE_QUALITY_EVERY_S if smoke else every_s)
      if parzen:  # sigma on digits neither trained on nor kernel centres; reference at same n
        assert (c.eval.parzen_valid_split, c.data.train_split) == ("validation", "train")
        assert c.eval.parzen_samples == c.evals.parzen.train_set_num == comparison.PARZEN_SAMPLES
  # The likelihood families model 8-bit grey levels, not binarised pixels.
  configs = {e.name: comparison.config_for(e, smoke=False, seed=0) for e in comparison.ENTRIES}
  assert configs["vae"].objective.likelihood == "logistic_mixture"
  for name in ("pixelcnn", "gated_pixelcnn", "row_lstm", "diagonal_bilstm"):
    assert configs[name].model.likelihood == "logistic_mixture", name
  # Equal training time, not equal steps: the budget ends every run.
  assert {c.train.time_budget_s for c in configs.values()} == {comparison.BUDGET_S}
  assert {c.train.num_steps for c in configs.values()} == {comparison.MAX_STEPS}
  # DDPM's sampler rows evaluate the DDPM runs with another sampler.
  ddpm = configs["ddpm"]
  for name in ("ddpm_ancestral", "ddpm_ddim10", "ddpm_ddim100"):
    c, entry = configs[name], next(e for e in comparison.ENTRIES if e.name == name)
    assert entry.of == "ddpm" and comparison.run_dir("w", entry, 2) == "w/ddpm/seed_2"
    assert c.model == ddpm.model and c.objective == ddpm.objective
  assert configs["ddpm_ancestral"].sample.sampler == "ancestral"
  assert (configs["ddpm_ddim10"].sample.sampler, configs["ddpm_ddim10"].sample.ddim_steps) == (
    "ddim",
    10,
  )


def test_an_unknown_family_is_one_sentence():
  with pytest.raises(ConfigError, match="--only names families of the comparison: vae"):
    comparison.entries("vae,nope")
  assert [e.name for e in comparison.entries("ddpm,gan")] == ["gan", "ddpm"]
  # a sampler row brings the run it evaluates
  assert [e.name for e in comparison.entries("ddpm_ddim20")] == ["ddpm", "ddpm_ddim20"]


def _family(fd, sd, recall=0.9, classes=10, collapsed=(), speed=1000.0, **extra):
  mean = {
    "eval/fd_digits": fd,
    "eval/recall_digits": recall,
    "eval/classes_covered": classes,
    "eval/sharpness": extra.pop("sharpness", 1.0),
    "eval/sharpness_floor": 1.0,
    **extra,
  }
  return {
    "mean": mean,
    "sd": {"eval/fd_digits": sd},
    "runs": 3,
    "diverged": 0,
    "collapsed_seeds": list(collapsed),
    "sampling": {"eval/sample_images_per_sec": speed},
  }


def test_each_claim_is_judged_by_its_stated_rule():
  results = {
    "families": {
      "vae": _family(60, 3, recall=0.4, sharpness=0.6, speed=20000, **{"eval/bits_per_dim": 4.0}),
      "gan": _family(100, 40, recall=0.5, classes=6, collapsed=[1], speed=40000),
      "ddpm": _family(50, 5, recall=0.95, speed=30, **{"eval/bits_per_dim": 4.8}),
      "pixelcnn": _family(120, 10, speed=1500, **{"eval/bits_per_dim": 3.6}),
      "autoencoder": _family(400, 20, speed=50000),
    }
  }
  said = {c.split("**")[1]: c for c in comparison_claims.check(results)}
  gan = said["GANs sample fast and sharp but train unstably and collapse modes"]
  assert "confirmed." in gan and "unstable: yes" in gan and "collapse modes: yes" in gan
  vae = said["VAEs train stably and diversely but blur"]
  assert "partly confirmed" in vae and "diverse: no" in vae and "blur: yes" in vae
  ddpm = said["Diffusion gives quality and mode coverage but samples slowly"]
  assert ": confirmed." in ddpm
  ar = said["PixelRNN / PixelCNN model the exact likelihood but generate very slowly"]
  # 1,500 images/s against at least 20,000 for every one-network-call sampler
  assert "the best (exact) likelihood: yes" in ar and "generate very slowly: yes" in ar
  assert ": confirmed." in said["An autoencoder is not generative"]
  # A Parzen-window value is not a likelihood: no rule reads it, however high it is.
  for name in ("gan", "autoencoder"):
    results["families"][name]["mean"]["eval/parzen_ll"] = 1e6
  assert {c.split("**")[1]: c for c in comparison_claims.check(results)} == said
  results["families"]["autoencoder"]["mean"]["eval/fd_digits"] = 55
  assert ": contradicted." in comparison_claims.check(results)[-1]
  results["families"]["vae"]["sampling"]["eval/sample_images_per_sec"] = 10000
  assert "generate very slowly: no" in comparison_claims.check(results)[3]


def test_summary_over_seeds_and_diverged_runs():
  records = [
    {"metrics": {"eval/fd_digits": 10.0}, "train_steps_per_sec": 4.0},
    {"metrics": {"eval/fd_digits": 14.0}, "train_steps_per_sec": 6.0},
    {"diverged": "loss is NaN at step 7"},
  ]
  s = comparison_summary.summarise(records)
  assert (s["runs"], s["diverged"]) == (3, 1)
  assert s["mean"]["eval/fd_digits"] == 12.0
  assert s["sd"]["eval/fd_digits"] == pytest.approx(math.sqrt(8.0))
  assert s["mean"]["train_steps_per_sec"] == 5.0
  assert comparison_report._cell(s, "eval/fd_digits") == "12.0 ± 2.8"


def test_quality_curve_of_a_run_and_its_mean_over_seeds(tmp_path):
  """The periodic evaluations at the training seconds logged at their step, then the
  final measurement; a run measured before periodic evaluations has only the final one.
  Over seeds, the i-th periodic points go together, and the final ones."""
  fd = {"eval/fd_digits_floor": 20.0}
  rows = [
    {"step": 20, "train/seconds": 16.0, "train/loss": 1.0},
    {"step": 20, "eval/fd_digits": 300.0, **fd},
    {"step": 40, "train/seconds": 31.0},
    {"step": 40, "eval/fd_digits": 200.0, **fd},
    {"step": 60, "train/seconds": 46.0},
  ]
  (tmp_path / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
  record = {"finished": True, "step": 60, "train_seconds": 46.0}
  record["metrics"] = {"eval/fd_digits": 100.0, **fd}
  curve = comparison_summary.quality_curve(str(tmp_path), record)
  assert [(p["step"], p["train_seconds"], p["fd"], p.get("final")) for p in curve] == [
    (20, 16.0, 300.0, None),
    (40, 31.0, 200.0, None),
    (60, 46.0, 100.0, True),
  ]
  old = comparison_summary.quality_curve(str(tmp_path / "before"), record)
  assert [(p["train_seconds"], p["fd"]) for p in old] == [(46.0, 100.0)]
  other = [dict(p, train_seconds=p["train_seconds"] + 1, fd=p["fd"] + 20) for p in curve]
  mean = comparison_summary.mean_curve([curve, other, old])
  assert [(p["train_seconds"], p["fd"], p["seeds"]) for p in mean] == [
    (16.5, 310.0, 2),
    (31.5, 210.0, 2),
    (pytest.approx(46 + 1 / 3), pytest.approx(100 + 20 / 3), 3),
  ]
  assert mean[0]["fd_sd"] == pytest.approx(math.sqrt(200.0))
  assert math.isnan(comparison_summary.mean_curve([old])[0]["fd_sd"])


def test_compare_smoke_writes_the_report_and_a_rerun_reads_it_back(tmp_path, tfds_dir):
  workdir = str(tmp_path / "compare")
  args = (
    "--smoke",
    "--seeds=1",
    "--only=vae,gan",
    f"--workdir={workdir}",
    f"--data_dir={tfds_dir}",
  )
  first = run_launch("compare", *args, timeout=400)
  assert first.returncode == 0, first.stderr[-3000:]
  results = json.load(open(os.path.join(workdir, "results.json"), encoding="utf-8"))
  assert list(results["families"]) == ["vae", "gan"]
  for name, fam in results["families"].items():
    m = fam["mean"]
    assert fam["runs"] == 1 and fam["diverged"] == 0
    assert m["eval/fd_digits"] > m["eval/fd_digits_floor"] >= 0.0, name
    assert 0.0 <= m["eval/precision_digits_floor"] <= 1.0
    assert fam["sampling"]["eval/sample_images_per_sec"] > 0
    assert fam["sampling"]["eval/network_evals_per_image"] == 1
  assert math.isfinite(results["families"]["vae"]["mean"]["eval/bits_per_dim"])
  assert "eval/bits_per_dim" not in results["families"]["gan"]["mean"]
  report = open(os.path.join(workdir, "report.md"), encoding="utf-8").read()
  assert "| vae | VAE" in report and "| gan | GAN" in report
  for fig in ("samples.png", "sample_quality.png", "quality_vs_train_seconds.png"):
    assert os.path.getsize(os.path.join(workdir, "figures", fig)) > 1000
  assert "(figures/quality_vs_train_seconds.png)" in report
  # The Parzen column: the GAN's estimate and the training digits' at the same n; "—"
  # for the VAE, which has bits/dim.
  table = [
    [c.strip() for c in line.strip().strip("|").split("|")]
    for line in report.splitlines()
    if line.startswith("| ")
  ]
  column = next(i for i, c in enumerate(table[0]) if c.startswith("Parzen window, nats"))
  assert "not a likelihood bound" in table[0][column]
  cells = {row[0]: row[column] for row in table[1:]}
  assert cells["vae"] == "—"
  gan = results["families"]["gan"]["mean"]
  assert math.isfinite(gan["eval/parzen_ll"]) and math.isfinite(gan["eval/parzen_ll_train_set"])
  assert gan["eval/parzen_n"] == gan["eval/parzen_n_train_set"] == comparison.PARZEN_SAMPLES
  assert cells["gan"] == f"{gan['eval/parzen_ll']:.1f} ({gan['eval/parzen_ll_train_set']:.1f})"
  # Quality measured while training, at the training seconds of its step.
  for name in ("vae", "gan"):
    curve = results["quality_vs_train_seconds"][name]
    assert len(curve) >= 2 and all(math.isfinite(p["fd"]) for p in curve), curve
    seconds = [p["train_seconds"] for p in curve]
    assert seconds == sorted(seconds) and seconds[0] > 0

  # The sweep: the VAE's default trained again beside the other setting, each measured
  # as the comparison's runs.
  swept = run_launch("compare", *args[:2], "--only=vae", *args[3:], "--sweep", timeout=400)
  assert swept.returncode == 0, swept.stderr[-3000:]
  sweep = json.load(open(os.path.join(workdir, "sweep.json"), encoding="utf-8"))
  rows = {r["setting"]: r for r in sweep["vae"]}
  assert list(rows) == ["default", "lr x2"]  # --smoke: one setting of the sweep
  assert rows["default"]["chosen"] and not rows["lr x2"]["chosen"]
  for row in rows.values():
    assert math.isfinite(row["fd"]) and math.isfinite(row["bits_per_dim"]) and not row["diverged"]
  assert os.path.exists(os.path.join(workdir, "sweep", "vae", "lrx2", "seed_0", "comparison.json"))
  assert "| vae | lr x2 |" in open(os.path.join(workdir, "sweep.md"), encoding="utf-8").read()

  again = run_launch("compare", *args, timeout=400)
  assert again.returncode == 0, again.stderr[-3000:]
  assert "step 5/" not in again.stdout  # nothing retrained
  rerun = json.load(open(os.path.join(workdir, "results.json"), encoding="utf-8"))
  for name in ("vae", "gan"):
    assert rerun["families"][name]["mean"] == results["families"][name]["mean"]
  assert "[What was tried](sweep.md)" in open(os.path.join(workdir, "report.md")).read()


def test_the_sweep_scales_each_familys_learning_rates_and_widths():
  from experiments import comparison_sweep

  by_name = {e.name: e for e in comparison.ENTRIES}
  swept = [e.name for e in comparison_sweep.entries(comparison.ENTRIES)]
  # The papers' settings and the autoencoder reference are not tuned; sampler rows train
  # nothing. Each tuned entry tries its default and 4 settings.
  assert swept == ["vae", "gan", "dcgan", "ddpm", "pixelcnn", "gated_pixelcnn", "row_lstm"] + [
    "diagonal_bilstm"
  ]
  assert len(comparison_sweep.settings(by_name["vae"])) == 5
  widths = {
    "vae": ("hidden", (500, 500), (1000, 1000)),
    "gan": ("d_hidden", (512, 256), (1024, 512)),
    "dcgan": ("g_channels", (128, 64), (256, 128)),
    "ddpm": ("ch", 16, 32),
    "pixelcnn": ("head_hidden", 64, 128),
  }
  for name, (field, before, after) in widths.items():
    e = by_name[name]
    default = comparison_sweep.config_for(e, (), smoke=False)
    wide = comparison_sweep.config_for(e, (("width", 2.0),), smoke=False)
    assert (default.model[field], wide.model[field]) == (before, after), name
    fast = comparison_sweep.config_for(e, (("lr", 2.0),), smoke=False)
    assert fast.optim.learning_rate == 2 * default.optim.learning_rate
    assert fast.model == default.model and wide.optim == default.optim
    # measured after training only, on the comparison's data and budget
    assert {k: v.every for k, v in wide.evals.items()} == {"split_means": -1, "sample_quality": -1}
    assert (wide.data.name, wide.train.time_budget_s, wide.seed) == ("digits", 90.0, 0)
  gan = comparison_sweep.config_for(by_name["gan"], (("lr", 0.5),), smoke=False)
  assert (gan.optim.learning_rate, gan.optim_disc.learning_rate) == (
    5e-5,
    2e-4,
  )  # TTUR's ratio kept
  assert comparison_sweep.run_dir("w", by_name["vae"], ()) == "w/sweep/vae/default/seed_0"
  assert (
    comparison_sweep.run_dir("w", by_name["vae"], (("lr", 0.5),)) == "w/sweep/vae/lrx0.5/seed_0"
  )
  with pytest.raises(ConfigError, match="scales 'lr' or 'width', not 'depth'"):
    comparison.scale(comparison.config_for(by_name["vae"], smoke=True, seed=0), "depth", 2.0)


def test_the_sweep_prefers_a_setting_only_beyond_the_defaults_spread():
  from experiments import comparison_sweep

  row = lambda setting, fd, chosen=False: dict(
    setting=setting, chosen=chosen, fd=fd, fd_floor=26.0, bits_per_dim=None, steps=100, diverged=""
  )
  rows = [row("default", 60.0, True), row("lr x2", 52.0), row("width x2", 56.0)]
  # the default 60, its seeds' sd 5: 52 is beyond the spread, 56 within it
  assert comparison_sweep.better(rows[1], rows[0], 5.0)
  assert not comparison_sweep.better(rows[2], rows[0], 5.0)
  assert not comparison_sweep.better(rows[1], rows[0], float("nan"))  # one seed: no sd known
  assert not comparison_sweep.better(rows[1], rows[0], None)
  text = comparison_sweep.markdown({"gan": rows}, budget_s=90.0, sd={"gan": 5.0})
  assert "| gan | **default** | 60.0 (26.0) |" in text
  assert "| gan | lr x2 | 52.0 (26.0) ✓ |" in text and "| gan | width x2 | 56.0 (26.0) |" in text
  assert "(its chosen setting): gan 5.0." in text


def test_time_left_counts_each_run_as_its_family_took_so_far():
  from launch import compare

  by_name = {e.name: e for e in comparison.ENTRIES}
  vae, gan, ddim = by_name["vae"], by_name["gan"], by_name["ddpm_ddim10"]
  # Before any run: twice the budget for a run that trains, a third for one that evaluates.
  assert compare._time_left([(0, vae), (0, ddim)], [], budget_s=90) == "about 4 min left"
  # Then the family's own runs, else the mean of the runs of its kind.
  took = [(vae, 300.0), (gan, 90.0), (ddim, 30.0)]
  todo = [(1, vae), (1, gan), (1, by_name["pixelcnn"]), (1, ddim)]
  assert compare._time_left(todo, took, budget_s=90) == "about 10 min left"  # 300+90+195+30 s
  assert compare._time_left([(1, ddim)], took, budget_s=90) == "under a minute left"


def test_a_run_at_another_setting_is_neither_read_back_nor_trained_over(tmp_path, monkeypatch):
  import dataclasses

  by_name = {e.name: e for e in comparison.ENTRIES}
  vae = by_name["vae"]
  rundir = str(tmp_path / "vae" / "seed_0")
  os.makedirs(rundir)
  record = {"entry": "vae", "seed": 0, "finished": True, "metrics": {}, "settings": "lr x2"}
  path = os.path.join(rundir, "comparison.json")
  with open(path, "w", encoding="utf-8") as f:
    json.dump(record, f)
  config = comparison.config_for(vae, smoke=True, seed=0)
  with pytest.raises(ConfigError, match="holds a run of vae at setting 'lr x2', and the comp"):
    comparison.train_and_measure(vae, config, rundir, feature_net=None)
  assert json.load(open(path, encoding="utf-8")) == record  # untouched
  # At that setting it is read back as it is.
  tuned = dataclasses.replace(vae, tuned=(("lr", 2.0),))
  assert comparison.train_and_measure(tuned, config, rundir, feature_net=None) == record
  # A sampler row evaluates the DDPM runs at the DDPM entry's setting: the same network.
  wide = dataclasses.replace(by_name["ddpm"], tuned=(("width", 2.0),))
  monkeypatch.setattr(
    comparison, "ENTRIES", tuple(wide if e.name == "ddpm" else e for e in comparison.ENTRIES)
  )
  ancestral = comparison.config_for(by_name["ddpm_ancestral"], smoke=False, seed=0)
  assert ancestral.model == comparison.config_for(wide, smoke=False, seed=0).model
  assert ancestral.model.ch == 32
