"""Evaluators: precision/recall, like-with-like references, cadence, config errors; the
loop's record of every step's metrics exactly once."""

import dataclasses
import json
import os
import shutil

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import pytest

from genjax import data as gdata
from genjax.errors import ConfigError
from genjax.eval import evaluators
from genjax.eval import precision_recall as pr
from genjax.eval.feature_net import FeatureNet
from genjax.train import mesh as mesh_lib
from genjax.train.loop import train_and_evaluate
from tests.test_train_loop import _toy


def test_precision_and_recall_are_one_for_identical_sets_and_zero_for_disjoint_ones():
  rng = np.random.default_rng(0)
  real = rng.normal(size=(200, 8))
  assert pr.precision_recall(real, real.copy(), k=3) == (1.0, 1.0)
  far = rng.normal(size=(200, 8)) + 100.0
  assert pr.precision_recall(real, far, k=3) == (0.0, 0.0)


def test_precision_and_recall_separate_quality_from_coverage():
  """Samples collapsed onto one real point are realistic (precision 1) but cover
  almost none of the data (recall near 0)."""
  rng = np.random.default_rng(1)
  real = rng.normal(size=(300, 4))
  collapsed = real[:1] + 1e-3 * rng.normal(size=(300, 4))
  precision, recall = pr.precision_recall(real, collapsed, k=3)
  assert precision == 1.0 and recall < 0.05


def test_knn_radius_is_the_kth_neighbour_excluding_the_point_itself():
  points = np.array([[0.0], [1.0], [3.0], [7.0]])
  np.testing.assert_allclose(pr.knn_radii(points, k=1), [1.0, 1.0, 4.0, 16.0])
  np.testing.assert_allclose(pr.knn_radii(points, k=2), [9.0, 4.0, 9.0, 36.0])


def test_binarised_samples_are_compared_with_binarised_real_images(vae_smoke):
  c = vae_smoke
  c.data.binarize = "dynamic"
  binary = evaluators.reference_images(c, "test", 50, binary=True)
  grey = evaluators.reference_images(c, "test", 50, binary=False)
  assert set(np.unique(binary)) <= {-1.0, 1.0}
  assert len(np.unique(grey)) > 2


def _entry(**kw):
  return ml_collections.ConfigDict(kw)


def test_cadence_of_an_evaluator():
  ev = lambda every: evaluators.Evaluator("x", "split_means", every, lambda s: {})
  assert [s for s in range(1, 11) if evaluators.is_due(ev(0), s, 10, 4)] == [4, 8, 10]
  assert [s for s in range(1, 11) if evaluators.is_due(ev(5), s, 10, 4)] == [5, 10]
  assert not any(evaluators.is_due(ev(-1), s, 10, 4) for s in range(1, 11))
  assert not any(evaluators.is_due(ev(0), s, 10, 0) for s in range(1, 11))


def test_time_cadence_of_an_evaluator():
  """every_s: due at the first log step at or after each multiple of every_s training
  seconds (however many were passed since the last log step: one evaluation), and at the
  last step; never on the step cadence."""
  ev = evaluators.Evaluator("x", "split_means", 0, lambda s: {}, every_s=10.0)
  due = lambda now, before, last=False: evaluators.is_due_by_time(ev, now, before, last)
  assert not due(9.9, 0.0) and due(10.0, 9.9) and due(10.4, 9.0) and not due(19.9, 10.4)
  assert due(35.0, 12.0)  # 20 and 30 both passed: evaluated once, now
  assert due(12.0, 11.0, last=True)  # the run's last step
  assert not due(10.0, 10.0)  # a resumed run at 10 s has evaluated its multiple
  assert not any(evaluators.is_due(ev, s, 10, 4) for s in range(1, 11))
  steps = dataclasses.replace(ev, every_s=0.0)
  assert not any(evaluators.is_due_by_time(steps, 100.0, 0.0, True) for _ in range(1))


def test_a_time_cadence_is_checked_like_the_other_fields(vae_smoke):
  from genjax.train import preflight

  entry = vae_smoke.evals.split_means
  with vae_smoke.unlocked():
    entry.every_s = -1.0
  with pytest.raises(ConfigError, match=r"^evals.split_means.every_s must be a finite number"):
    preflight.check(vae_smoke)
  entry.every_s, entry.every = 30.0, 100
  with pytest.raises(ConfigError, match=r"^evals.split_means sets both every=100 .* one cadence"):
    preflight.check(vae_smoke)
  entry.every = 0
  preflight.check(vae_smoke)


def test_a_time_cadence_evaluates_at_the_expected_steps_across_a_resume(
  vae_smoke, tmp_path, monkeypatch
):
  """A fake clock, one training second per batch drawn: log steps every 5 s; every_s = 7
  evaluates at the first log step past 7, 14, 21, 28 s (10, 15, 25, 30; 30 also the
  last), every_s = 12 past 12 and 24 s and at the last step (15, 25, 30); a run stopped at
  15 and resumed does the same, with train.eval_every 0 (off) throughout."""
  from genjax.train import clock as clock_lib
  from genjax.train import loop

  drawn = [0]
  next_batch = loop._next_batch

  def counting(*args):
    drawn[0] += 1
    return next_batch(*args)

  class StepClock(clock_lib.TrainClock):
    def __init__(self, *args, **kw):
      super().__init__(*args, **kw)
      self._from = drawn[0]

    def seconds(self):
      return self.recorded + drawn[0] - self._from

  monkeypatch.setattr(loop, "_next_batch", counting)
  monkeypatch.setattr(loop, "TrainClock", StepClock)
  # an evaluator that only says it ran
  marker = lambda entry, ctx: lambda state: {f"eval/{entry.tag}": 1.0}
  monkeypatch.setitem(evaluators._TYPES, "marker", marker)
  c = vae_smoke
  c.data.name, c.data.binarize = "digits", "none"
  c.train.num_steps, c.train.log_every, c.train.eval_every = 30, 5, 0  # eval_every: off
  c.evals = ml_collections.ConfigDict(
    {tag: dict(type="marker", tag=tag, every_s=s) for tag, s in (("a", 7.0), ("b", 12.0))}
  )
  c.train.checkpoint_every = 15
  c.train.sample_every = 0
  evaluated = {}
  for name, stop in (("straight", None), ("resumed", 15)):
    workdir = str(tmp_path / name)
    loop.train_and_evaluate(_toy(), c, workdir, should_stop=stop and (lambda s: s == stop))
    if stop:
      loop.train_and_evaluate(_toy(), c, workdir)
    records = [json.loads(line) for line in open(os.path.join(workdir, "metrics.jsonl"))]
    seconds = {r["step"]: r["train/seconds"] for r in records if "train/seconds" in r}
    assert seconds == {s: float(s) for s in range(5, 31, 5)}
    evaluated[name] = {t: [r["step"] for r in records if f"eval/{t}" in r] for t in "ab"}
  assert evaluated["straight"] == evaluated["resumed"] == {"a": [10, 15, 25, 30], "b": [15, 25, 30]}


def test_unknown_evaluator_type_is_a_config_error(vae_smoke):
  with vae_smoke.unlocked():
    vae_smoke.evals.split_means.type = "fid_inception"
  ctx = evaluators.EvalContext(experiment=None, config=vae_smoke, mesh=None, key=None)
  with pytest.raises(ConfigError, match="evals.split_means.type must be one of"):
    evaluators.from_config(ctx)


def _counting():
  """The toy experiment whose metric at step s is s, so the record shows which steps
  each logged mean covers."""
  toy = _toy()

  def train_step(state, batch, key):
    new, _ = toy.train_step(state, batch, key)
    return new, {"train/step": new.step.astype(np.float32)}

  return dataclasses.replace(toy, train_step=train_step)


def test_every_step_is_logged_exactly_once_across_checkpoints_and_a_crash(vae_smoke, tmp_path):
  c = vae_smoke
  c.data.name, c.data.binarize = "digits", "none"
  c.train.log_every, c.train.checkpoint_every, c.train.eval_every = 4, 5, 0
  c.train.num_steps = 8
  workdir = str(tmp_path / "w")
  experiment = _counting()
  train_and_evaluate(experiment, c, workdir)
  # A crash after step 8 was logged but before its checkpoint was written.
  shutil.rmtree(os.path.join(workdir, "checkpoints", "8"))
  c.train.num_steps = 12
  train_and_evaluate(experiment, c, workdir)
  records = [json.loads(line) for line in open(os.path.join(workdir, "metrics.jsonl"))]
  records = [r for r in records if "train/step" in r]
  steps = [r["step"] for r in records]
  assert steps == sorted(set(steps)) and steps[-1] == 12
  # Each record is the mean over the steps since the previous one: together they cover
  # steps 1..12 once each (before, the steps between a log line and a checkpoint were
  # dropped, and a resume logged steps 6..8 twice).
  covered, prev = 0.0, 0
  for r in records:
    covered += r["train/step"] * (r["step"] - prev)
    prev = r["step"]
  assert covered == pytest.approx(sum(range(1, 13)))


def _class_accuracy_run(config, sample_class, feature_net, **entry):
  experiment = dataclasses.replace(_toy(), sample_class=sample_class)
  return _built("class_accuracy", config, experiment, feature_net, **entry)


def _grey_level_net():
  """Names class c for an image of mean grey level (c + 0.5) / 10 on [0, 1]."""

  def apply(x):
    ink = jnp.mean((x + 1) / 2, axis=(1, 2, 3))
    return -100.0 * jnp.square(ink[:, None] - (jnp.arange(10) + 0.5) / 10), ink[:, None]

  return FeatureNet(name="grey", input_shape=(28, 28, 1), accuracy=1.0, apply=apply)


def _painted(classes):
  level = (classes.astype(jnp.float32) + 0.5) / 10 * 2 - 1
  return jnp.broadcast_to(level[:, None, None, None], (classes.shape[0], 8, 8, 1))


def test_class_accuracy_is_one_for_a_sampler_that_draws_the_asked_class(vae_smoke):
  vae_smoke.sample.batch_size = 64  # several batches, the last one short
  run = _class_accuracy_run(
    vae_smoke, lambda state, key, labels: _painted(labels), _grey_level_net(), num_per_class=10
  )
  m = run(None)
  assert m["eval/class_accuracy"] == 1.0
  assert 0.0 <= m["eval/class_accuracy_real"] <= 1.0  # this net on real digits: any value


def test_class_accuracy_is_chance_for_a_sampler_that_ignores_the_label(vae_smoke):
  def ignores(state, key, labels):
    return _painted(jax.random.randint(key, labels.shape, 0, 10))

  m = _class_accuracy_run(vae_smoke, ignores, _grey_level_net(), num_per_class=100, num_real=50)(
    None
  )
  assert abs(m["eval/class_accuracy"] - 0.1) < 0.04  # 1000 samples: 4 standard errors


def test_class_accuracy_is_left_out_without_a_conditional_sampler_or_a_feature_net(vae_smoke):
  assert _class_accuracy_run(vae_smoke, None, _grey_level_net()) is None
  assert _class_accuracy_run(vae_smoke, lambda s, k, labels: _painted(labels), None) is None


def test_edge_energy_falls_with_blur_and_rises_with_noise():
  rng = np.random.default_rng(0)
  strokes = np.where(rng.random((50, 8, 8, 1)) < 0.3, 1.0, -1.0)
  blurred = (strokes + np.roll(strokes, 1, axis=1) + np.roll(strokes, 1, axis=2)) / 3
  assert evaluators.edge_energy(blurred) < evaluators.edge_energy(strokes)
  ramp = np.linspace(-1, 1, 8)[None, :, None, None] * np.ones((50, 8, 8, 1))
  noisy = ramp + rng.normal(0, 0.3, ramp.shape)
  assert evaluators.edge_energy(noisy) > evaluators.edge_energy(ramp)
  assert evaluators.edge_energy(np.zeros((4, 8, 8, 1))) == 0.0
  # one vertical edge in an 8x8 image: 8 of the 56 horizontal neighbour pairs differ by 2
  edge = np.where(np.arange(8)[None, None, :, None] < 4, -1.0, 1.0) * np.ones((1, 8, 8, 1))
  assert evaluators.edge_energy(edge) == pytest.approx(2 * 8 / 56)


def _built(kind, config, experiment, feature_net=None, **entry):
  ctx = evaluators.EvalContext(
    experiment=experiment,
    config=config,
    mesh=mesh_lib.make_mesh(),
    key=jax.random.key(0),
    feature_net=feature_net,
  )
  return evaluators._TYPES[kind](_entry(type=kind, **entry), ctx)


def test_linear_probe_scores_one_on_linearly_separable_features(vae_smoke, monkeypatch):
  """Images painted by class; features one-hot of the painted level: separable."""
  rng = np.random.default_rng(0)

  def load_split(cfg, split, **kw):
    labels = rng.integers(0, 10, 200 if split == "test" else 400).astype(np.int32)
    return {"image": np.asarray(_painted(jnp.asarray(labels))), "label": labels}

  monkeypatch.setattr(gdata, "load_split", load_split)
  level = lambda x: jnp.round((x[:, 0, 0, 0] + 1) / 2 * 10 - 0.5).astype(jnp.int32)
  separable = dataclasses.replace(
    _toy(), features=lambda state, x: jax.nn.one_hot(level(x), 10) * state.params["w"][0]
  )
  m = _built("linear_probe", vae_smoke, separable)(separable.init(jax.random.key(1)))
  assert m["eval/probe_accuracy"] == 1.0
  assert m["eval/probe_accuracy_random_init"] == 1.0  # these features need no training
  assert 0.0 <= m["eval/probe_accuracy_pixels"] <= 1.0
  noise = dataclasses.replace(
    _toy(), features=lambda state, x: jax.random.normal(jax.random.key(0), (x.shape[0], 10))
  )
  assert _built("linear_probe", vae_smoke, noise)(None)["eval/probe_accuracy"] < 0.5
  assert _built("linear_probe", vae_smoke, _toy()) is None  # no features: left out


def test_translation_error_of_the_true_map_is_zero_and_of_the_identity_the_known_value(
  tfds_dir,
):
  from experiments.configs import cyclegan_digits
  from genjax import data as gdata
  from genjax.data.digits_cycle import appearance

  c = cyclegan_digits.get_config("smoke")
  c.data.data_dir = tfds_dir

  def given(g, f):
    def sample_given(state, batch, key):
      x, y = batch["image_a"], batch["image_b"]
      return jnp.stack([x, g(x), x, y, f(y), y])

    return dataclasses.replace(_toy(), sample_given=sample_given)

  true = _built("translation_error", c, given(appearance.transform, appearance.inverse_transform))
  m = true(None)
  assert m["eval/translation_mae_ab"] == m["eval/translation_rmse_ab"] == 0.0
  assert m["eval/translation_mae_ba"] == 0.0
  # T(x) = -roll(x): the identity's error is mean |x + roll(x)| over every test image of A.
  a = gdata.load_split(c.data, "testA")["image"].astype(np.float64)
  known = np.mean(np.abs(a - appearance.transform(a)))
  assert m["eval/translation_mae_ab_identity"] == pytest.approx(known, rel=1e-6)
  assert m["eval/translation_mae_ab_intensity_map"] < m["eval/translation_mae_ab_identity"]
  same = _built("translation_error", c, given(lambda x: x, lambda y: y))(None)
  assert same["eval/translation_mae_ab"] == pytest.approx(known, rel=1e-6)
  assert same["eval/translation_rmse_ba"] == pytest.approx(
    same["eval/translation_rmse_ba_identity"]
  )
  c.data.name = "digits"  # no known map: left out
  assert _built("translation_error", c, given(lambda x: x, lambda y: y)) is None


def test_binarization_floor_is_the_mean_bernoulli_entropy_of_the_test_images(vae_smoke):
  import math

  c = vae_smoke
  c.data.name, c.data.binarize = "digits", "dynamic"
  m = _built("binarization_floor", c, _toy())(None)
  grey = evaluators.labelled_reference(c, "test", None, binary=False)["image"]
  p = np.clip((grey.astype(np.float64) + 1) / 2, 1e-12, 1 - 1e-12)
  per_image = -np.sum(p * np.log(p) + (1 - p) * np.log(1 - p), axis=(1, 2, 3))
  assert m["eval/binarization_floor_nll"] == pytest.approx(per_image.mean(), rel=1e-4)
  assert m["eval/binarization_floor_bits_per_dim"] == pytest.approx(
    per_image.mean() / (64 * math.log(2)), rel=1e-4
  )
  c.data.binarize = "none"
  assert _built("binarization_floor", c, _toy()) is None


def test_sampler_sweep_times_and_scores_each_sampler_and_the_table_reads_it(vae_smoke, tmp_path):
  from experiments import ddpm_figures
  from genjax.train.experiment import FigureContext

  c = vae_smoke
  c.data.name, c.data.binarize = "digits", "none"
  painted = lambda state, key, n: _painted(jax.random.randint(key, (n,), 0, 10))
  exp = dataclasses.replace(_toy(), samplers=(("ddim", 5, painted), ("ancestral", 20, painted)))
  m = _built("sampler_sweep", c, exp, _grey_level_net(), num_samples=50)(None)
  prefix = evaluators.SWEEP_PREFIX
  assert set(m) == {
    f"{prefix}ddim_5/images_per_sec",
    f"{prefix}ddim_5/fd_grey",
    f"{prefix}ancestral_20/images_per_sec",
    f"{prefix}ancestral_20/fd_grey",
    f"{prefix}fd_grey_floor",
  }
  assert m[f"{prefix}ddim_5/fd_grey"] == m[f"{prefix}ancestral_20/fd_grey"]  # same key
  assert _built("sampler_sweep", c, _toy()) is None
  ctx = FigureContext(
    config=c, workdir="", figures_dir="", step=0, key=None, evaluation={**m, "eval/other": 1.0}
  )
  path = ddpm_figures.steps_vs_quality(str(tmp_path / "t.md"), ctx)
  lines = open(path, encoding="utf-8").read().splitlines()
  assert len(lines) == 4 and "DDIM" in lines[2] and "| 5 |" in lines[2] and "ancestral" in lines[3]
  assert f"{m[prefix + 'ddim_5/fd_grey']:.2f}" in lines[2]
  assert (
    ddpm_figures.steps_vs_quality(str(tmp_path / "u.md"), dataclasses.replace(ctx, evaluation={}))
    is None
  )
