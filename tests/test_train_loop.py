"""The generic loop: exact resume, NaN handling, checkpoints, workdir contents."""

import json
import os

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import experiments
from genjax.errors import CheckpointError, TrainingDiverged
from genjax.eval import evaluators as evaluators_lib
from genjax.train import checkpoint, clock
from genjax.train import mesh as mesh_lib
from genjax.train.experiment import Experiment
from genjax.train.loop import make_step_fn, restore_latest, train_and_evaluate
from genjax.train.state import TrainState
from genjax.train.writers import read_metrics
from tests.conftest import assert_same_state


def _params(experiment, config, workdir):
  step, state = restore_latest(experiment, config, workdir)
  return step, jax.device_get(state)


def test_resume_gives_the_same_parameters_as_not_stopping(vae_smoke, tmp_path):
  experiment = experiments.build(vae_smoke)
  straight, split = str(tmp_path / "straight"), str(tmp_path / "split")
  train_and_evaluate(experiment, vae_smoke, straight)
  train_and_evaluate(experiment, vae_smoke, split, should_stop=lambda step: step == 7)
  assert _params(experiment, vae_smoke, split)[0] == 7
  train_and_evaluate(experiment, vae_smoke, split)
  # bitwise: same batches, same keys, same order
  assert_same_state(experiment, vae_smoke, straight, split)
  # The workdir is the record: config, metrics, TensorBoard events, samples.
  assert json.load(open(os.path.join(split, "config.json")))["family"] == "vae"
  lines = [json.loads(line) for line in open(os.path.join(split, "metrics.jsonl"))]
  assert {"train/loss", "train/steps_per_sec"} <= set(lines[0])
  assert any("eval/iw_nll" in r for r in lines)
  assert os.listdir(os.path.join(split, "tensorboard"))
  assert os.path.exists(os.path.join(split, "samples", "step_0000020.png"))
  assert os.path.exists(os.path.join(split, "samples", "step_0000020.npz"))


def _toy(nan_from_step=None):
  """A linear regression whose loss turns NaN from a given step, to test the loop alone."""
  tx = optax.sgd(0.05)

  def init(key):
    return TrainState.create({"w": jax.random.normal(key, (64,)) * 0.01}, tx)

  def loss_fn(params, batch, key):
    x = batch["image"].reshape(batch["image"].shape[0], -1)
    y = batch["label"].astype(jnp.float32) + 0.01 * jax.random.normal(key, batch["label"].shape)
    return jnp.mean((x @ params["w"] - y) ** 2)

  def train_step(state, batch, key):
    loss, grads = jax.value_and_grad(loss_fn)(state.params, batch, key)
    if nan_from_step is not None:
      loss = jnp.where(state.step >= nan_from_step, jnp.nan, loss)
      grads = jax.tree.map(lambda g: jnp.where(state.step >= nan_from_step, jnp.nan, g), grads)
    return state.apply_gradients(grads, tx, ema_decay=0.0), {"train/loss": loss}

  def eval_step(state, batch, key):
    x = batch["image"].reshape(batch["image"].shape[0], -1)
    return {"eval/mse": (x @ state.params["w"] - batch["label"]) ** 2}

  return Experiment(init=init, train_step=train_step, eval_step=eval_step)


@pytest.fixture
def toy_config(vae_smoke):
  c = vae_smoke
  c.data.name = "digits"
  c.data.binarize = "none"
  c.train.num_steps = 30
  c.train.log_every = 5
  c.train.checkpoint_every = 10
  c.train.eval_every = 0
  return c


def test_a_resumed_run_in_the_same_process_reuses_the_traced_step(toy_config, tmp_path):
  """The train step is jitted once per (experiment, mesh, key), as are init, sample and
  eval: the resumed run and a second workdir trace it no more; another seed's key does."""
  toy = _toy()
  traced = []
  step = toy.train_step
  toy = Experiment(
    init=toy.init,
    train_step=lambda *a: traced.append(1) or step(*a),  # runs once per trace
    eval_step=toy.eval_step,
  )
  workdir = str(tmp_path / "once")
  train_and_evaluate(toy, toy_config, workdir, should_stop=lambda s: s == 10)
  train_and_evaluate(toy, toy_config, workdir)
  train_and_evaluate(toy, toy_config, str(tmp_path / "again"))
  assert len(traced) == 1 and _params(toy, toy_config, workdir)[0] == 30
  toy_config.seed += 1
  train_and_evaluate(toy, toy_config, str(tmp_path / "other_seed"))
  assert len(traced) == 2


def test_nan_loss_stops_and_keeps_the_last_good_checkpoint(toy_config, tmp_path):
  workdir = str(tmp_path / "nan")
  with pytest.raises(TrainingDiverged, match=r"train/loss became nan by step 15.*step 10"):
    train_and_evaluate(_toy(nan_from_step=12), toy_config, workdir)
  step, state = restore_latest(_toy(), toy_config, workdir)
  assert step == 10
  assert np.all(np.isfinite(state.params["w"]))
  assert sorted(os.listdir(os.path.join(workdir, "checkpoints"))) == ["10"]


def test_corrupt_newest_checkpoint_is_set_aside_and_the_previous_one_restored(toy_config, tmp_path):
  workdir = str(tmp_path / "corrupt")
  toy_config.train.num_steps = 20
  train_and_evaluate(_toy(), toy_config, workdir)
  for root, _, files in os.walk(os.path.join(workdir, "checkpoints", "20", "state")):
    for f in files:
      with open(os.path.join(root, f), "wb") as fh:
        fh.write(b"\0garbage")
  step, _ = restore_latest(_toy(), toy_config, workdir)
  assert step == 10
  assert os.listdir(os.path.join(workdir, "checkpoints_corrupt")) == ["20"]  # kept, not lost


def test_checkpoint_of_another_model_is_a_clear_error(vae_smoke, toy_config, tmp_path):
  workdir = str(tmp_path / "other")
  toy_config.train.num_steps = 10
  train_and_evaluate(_toy(), toy_config, workdir)
  with pytest.raises(CheckpointError, match="different model or config"):
    train_and_evaluate(experiments.build(vae_smoke), vae_smoke, workdir)
  assert os.listdir(os.path.join(workdir, "checkpoints")) == ["10"]


def test_time_budget_stops_checkpoints_and_holds_across_reruns(toy_config, tmp_path):
  workdir = str(tmp_path / "budget")
  toy_config.train.time_budget_s = 1e-6  # spent by the first check, at the first log line
  train_and_evaluate(_toy(), toy_config, workdir)
  assert _params(_toy(), toy_config, workdir)[0] == toy_config.train.log_every
  record = json.load(open(os.path.join(workdir, clock.FILE)))
  assert list(record) == ["5"] and record["5"] >= 0
  train_and_evaluate(_toy(), toy_config, workdir)  # the budget is spent: nothing more
  assert _params(_toy(), toy_config, workdir)[0] == 5
  toy_config.train.time_budget_s = 0.0  # no budget: on to num_steps
  train_and_evaluate(_toy(), toy_config, workdir)
  assert _params(_toy(), toy_config, workdir)[0] == 30
  assert sorted(map(int, json.load(open(os.path.join(workdir, clock.FILE))))) == [5, 10, 20, 30]


def test_a_stop_asked_for_while_evaluating_ends_the_run_at_that_step(
  toy_config, tmp_path, monkeypatch
):
  """A SIGTERM that arrives during an evaluation (which can take minutes) saves that step
  and stops, rather than training on to the next step it checks."""
  toy_config.train.eval_every = 5  # off the checkpoints' cadence (10)
  signalled = []
  run_all = evaluators_lib.run_all
  monkeypatch.setattr(evaluators_lib, "run_all", lambda *a: signalled.append(1) or run_all(*a))
  workdir = str(tmp_path / "stopped")
  train_and_evaluate(_toy(), toy_config, workdir, should_stop=lambda step: bool(signalled))
  assert os.listdir(os.path.join(workdir, "checkpoints")) == ["5"]
  assert [r["step"] for r in read_metrics(workdir) if "eval/mse" in r] == [5]


def test_a_kill_while_evaluating_loses_no_training_and_the_rerun_logs_the_evaluation(
  toy_config, tmp_path, monkeypatch
):
  """The checkpoint of a step is saved before its evaluation; a rerun of a workdir whose
  final evaluation was cut short makes and logs it, once."""
  toy_config.train.num_steps, toy_config.train.eval_every = 10, 10

  def killed(*a):
    raise RuntimeError("killed while evaluating")

  monkeypatch.setattr(evaluators_lib, "run_all", killed)
  workdir = str(tmp_path / "killed")
  with pytest.raises(RuntimeError, match="killed"):
    train_and_evaluate(_toy(), toy_config, workdir)
  assert os.listdir(os.path.join(workdir, "checkpoints")) == ["10"]
  monkeypatch.undo()
  assert "eval/mse" in train_and_evaluate(_toy(), toy_config, workdir)  # nothing to train
  train_and_evaluate(_toy(), toy_config, workdir)
  assert [r["step"] for r in read_metrics(workdir) if "eval/mse" in r] == [10]


def test_a_steps_checkpoint_is_committed_before_its_evaluation_starts(
  toy_config, tmp_path, monkeypatch
):
  """Checkpoints are written in the background; at a step that also evaluates, the loop
  waits for the save to commit first, so that a kill during the evaluation (which can
  take minutes) finds the step on disk."""
  toy_config.train.num_steps, toy_config.train.eval_every = 10, 5  # checkpoints every 10
  workdir = str(tmp_path / "committed")
  events = []

  def logged(name):
    method = getattr(checkpoint.Checkpointer, name)

    def call(self, *args):
      events.append(name)
      return method(self, *args)

    return call

  for name in ("save", "wait"):
    monkeypatch.setattr(checkpoint.Checkpointer, name, logged(name))
  run_all = evaluators_lib.run_all

  def evaluating(*a):
    events.append(("evaluate", sorted(os.listdir(os.path.join(workdir, "checkpoints")))))
    return run_all(*a)

  monkeypatch.setattr(evaluators_lib, "run_all", evaluating)
  train_and_evaluate(_toy(), toy_config, workdir)
  # step 5 evaluates with no checkpoint due; step 10 saves, waits, then evaluates
  assert events[:4] == [("evaluate", []), "save", "wait", ("evaluate", ["10"])]


def test_an_evaluation_and_samples_a_kill_cut_short_are_made_when_the_run_resumes(
  toy_config, tmp_path, monkeypatch
):
  """A kill during step 20's evaluation (its checkpoint saved first) leaves step 20 out
  of the record; the rerun makes its evaluation and samples from that checkpoint before
  training on, so the record is a straight run's. A step whose evaluation was logged
  (a stop after it) is not evaluated again."""
  toy_config.train.update(eval_every=10, sample_every=10)
  toy = _toy()
  toy = Experiment(
    init=toy.init,
    train_step=toy.train_step,
    eval_step=toy.eval_step,
    sample=lambda state, key, n: jnp.tanh(jnp.broadcast_to(state.params["w"][:1], (n, 8, 8, 1))),
  )
  calls, kills = [], [20]
  run_all = evaluators_lib.run_all

  def killed_at_20(evaluators, state):
    calls.append(int(state.step))
    if calls[-1] in kills:
      kills.clear()
      raise RuntimeError("killed while evaluating")
    return run_all(evaluators, state)

  monkeypatch.setattr(evaluators_lib, "run_all", killed_at_20)
  workdir = killed = str(tmp_path / "killed")
  with pytest.raises(RuntimeError, match="killed"):
    train_and_evaluate(toy, toy_config, workdir)
  samples = os.path.join(workdir, "samples")
  assert sorted(os.listdir(os.path.join(workdir, "checkpoints"))) == ["10", "20"]
  assert sorted(f for f in os.listdir(samples) if f.endswith(".png")) == ["step_0000010.png"]
  train_and_evaluate(toy, toy_config, workdir)
  assert calls == [10, 20, 20, 30]
  assert [r["step"] for r in read_metrics(workdir) if "eval/mse" in r] == [10, 20, 30]
  assert sorted(f for f in os.listdir(samples) if f.endswith(".png")) == [
    f"step_{s:07d}.png" for s in (10, 20, 30)
  ]

  final = str(tmp_path / "final")  # killed in the final evaluation: the rerun of the
  kills.append(30)  # finished workdir makes it and the final samples
  with pytest.raises(RuntimeError, match="killed"):
    train_and_evaluate(toy, toy_config, final)
  assert not os.path.exists(os.path.join(final, "samples", "step_0000030.png"))
  train_and_evaluate(toy, toy_config, final)
  assert [r["step"] for r in read_metrics(final) if "eval/mse" in r] == [10, 20, 30]
  assert os.path.exists(os.path.join(final, "samples", "step_0000030.png"))

  calls.clear()  # stopped after step 20's evaluation: the rerun evaluates 30 only
  stopped = str(tmp_path / "stopped")
  train_and_evaluate(toy, toy_config, stopped, should_stop=lambda step: step == 20)
  train_and_evaluate(toy, toy_config, stopped)
  assert calls == [10, 20, 30]
  evals = lambda w: [(r["step"], r["eval/mse"]) for r in read_metrics(w) if "eval/mse" in r]
  assert evals(killed) == evals(stopped)  # the remade evaluation is the one a run makes


def test_train_seconds_of_a_resumed_step(tmp_path):
  path = tmp_path / clock.FILE
  path.write_text(json.dumps({"10": 4.0, "20": 9.5}))
  # a run resumed at 20 had trained 9.5 s; one killed before 25's record resumes from 20's
  assert [clock.seconds_at(str(tmp_path), s) for s in (5, 10, 20, 25)] == [0.0, 4.0, 9.5, 9.5]
  assert clock.seconds_at(str(tmp_path / "new"), 0) == 0.0


@pytest.mark.parametrize("family", ["vae", "gan"])
def test_k_steps_per_dispatch_end_where_one_step_per_call_does(family, vae_smoke, tmp_path):
  """k = 4 steps per jitted call, stopped at 8 and resumed, against one step per call
  uninterrupted: the same keys and batches, so the same state and the same loss at every
  step (the GAN's state is a dict of train states).

  Within rounding, not bitwise: on XLA:CPU the k steps are unrolled into one program
  (genjax/train/loop.py says why), which XLA fuses and orders across the steps'
  boundaries, so some elements round differently from k programs of one step (seen: 304
  of the VAE's 500 elements of one parameter; on an accelerator the scanned step is a
  while loop's body instead, the same HLO compiled in another place). Small SGD steps
  keep a difference at the gradients' rounding, where Adam normalises a rounding
  difference in a near-zero gradient up to a full step. A wrong batch or key
  moves the parameters by ~1e-4 and the losses by far more than rtol."""
  from experiments.configs import gan_digits

  # The paper's GAN: the stabilisers (R1's double backprop, spectral norm, DiffAugment)
  # change nothing about dispatch and took 5x longer to compile in the scanned step.
  c = vae_smoke if family == "vae" else gan_digits.get_config("smoke,paper")
  c.data.data_dir = vae_smoke.data.data_dir
  c.train.sample_every = 0
  c.train.eval_every = 0
  c.train.log_every = c.train.checkpoint_every = 4
  for section in ("optim", "optim_disc") if family == "gan" else ("optim",):
    c[section].name, c[section].learning_rate = "sgd", 1e-4
  exp = experiments.build(c)
  one, four = str(tmp_path / "one"), str(tmp_path / "four")
  train_and_evaluate(exp, c, one)
  c.train.steps_per_dispatch = 4
  train_and_evaluate(exp, c, four, should_stop=lambda step: step == 8)
  assert _params(exp, c, four)[0] == 8
  train_and_evaluate(exp, c, four)
  assert_same_state(exp, c, one, four, atol=1e-7, rtol=1e-5)
  # every step's metrics logged once, averaged over the same steps
  logged = lambda w: [r for r in map(json.loads, open(os.path.join(w, "metrics.jsonl")))]
  assert [r["step"] for r in logged(one)] == [r["step"] for r in logged(four)]
  for a, b in zip(logged(one), logged(four)):
    losses = sorted(k for k in a if k.startswith("train/") and "loss" in k)
    assert losses and [a[k] for k in losses] == pytest.approx([b[k] for k in losses], rel=1e-5)


def test_a_checkpoint_off_the_dispatch_grid_resumes_one_step_at_a_time(vae_smoke, tmp_path):
  """A run stopped at step 3 with one step per call, resumed with k = 4 (a config whose
  default k changed, or a stop or budget between dispatches): step 4 is reached by a
  single step, then k at a time, so the cadences still fall on their steps and the run
  ends at num_steps with the state of one that never stopped (within rounding, as above)."""
  c = vae_smoke
  c.train.sample_every = c.train.eval_every = 0
  c.train.log_every = c.train.checkpoint_every = 4
  c.optim.name, c.optim.learning_rate = "sgd", 1e-4
  exp = experiments.build(c)
  one, mixed = str(tmp_path / "one"), str(tmp_path / "mixed")
  train_and_evaluate(exp, c, one)
  train_and_evaluate(exp, c, mixed, should_stop=lambda step: step == 3)
  assert _params(exp, c, mixed)[0] == 3
  c.train.steps_per_dispatch = 4
  train_and_evaluate(exp, c, mixed)
  assert _params(exp, c, mixed)[0] == c.train.num_steps
  assert_same_state(exp, c, one, mixed, atol=1e-7, rtol=1e-5)
  logged = lambda w: [json.loads(line)["step"] for line in open(os.path.join(w, "metrics.jsonl"))]
  assert logged(mixed) == [3] + logged(one)  # the stop logged its steps, then every cadence


def test_on_a_cpu_the_k_steps_are_unrolled_rather_than_a_loop(vae_smoke):
  """XLA:CPU trains convolutions several times slower inside a loop body (loop.py)."""
  if jax.default_backend() != "cpu":
    pytest.skip("an accelerator runs the k steps as a loop")
  exp = experiments.build(vae_smoke)
  mesh = mesh_lib.make_mesh()
  state = jax.jit(exp.init)(jax.random.key(0))
  image = jnp.zeros((4, vae_smoke.data.batch_size, 28, 28, 1))
  batches = {"image": image, "label": jnp.zeros(image.shape[:2], jnp.int32)}
  step = lambda k: make_step_fn(exp, mesh, jax.random.key(1), k)
  four = step(4).lower(state, batches, 0).compile().as_text()
  one = step(1).lower(state, jax.tree.map(lambda x: x[0], batches), 0).compile().as_text()
  # A loop's body would hold the step's products once.
  assert four.count(" dot(") == 4 * one.count(" dot(") > 0


def test_cadences_off_the_dispatch_grid_are_refused(vae_smoke):
  from genjax.errors import ConfigError
  from genjax.train import preflight

  vae_smoke.train.steps_per_dispatch = 3
  with pytest.raises(ConfigError, match=r"train.num_steps=20 is not a multiple of train.steps_"):
    preflight.check(vae_smoke)
