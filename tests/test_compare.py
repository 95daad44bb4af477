"""launch.compare: every family under one protocol, one report, resumable."""

import json
import math
import os

import pytest

from experiments import comparison, comparison_claims, comparison_report
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
      assert set(c.evals) == set(comparison.EVALS)
      assert c.train.eval_every == 0  # measured once, after training
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
  s = comparison.summarise(records)
  assert (s["runs"], s["diverged"]) == (3, 1)
  assert s["mean"]["eval/fd_digits"] == 12.0
  assert s["sd"]["eval/fd_digits"] == pytest.approx(math.sqrt(8.0))
  assert s["mean"]["train_steps_per_sec"] == 5.0
  assert comparison_report._cell(s, "eval/fd_digits") == "12.0 ± 2.8"


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
  for fig in ("samples.png", "sample_quality.png"):
    assert os.path.getsize(os.path.join(workdir, "figures", fig)) > 1000

  again = run_launch("compare", *args, timeout=400)
  assert again.returncode == 0, again.stderr[-3000:]
  assert "step 5/" not in again.stdout  # nothing retrained
  rerun = json.load(open(os.path.join(workdir, "results.json"), encoding="utf-8"))
  for name in ("vae", "gan"):
    assert rerun["families"][name]["mean"] == results["families"][name]["mean"]
