"""GAN step-level checks: which network each sub-step moves, the k-slice schedule, the
saturating loss's vanishing gradient, exact resume of the two-network state, figures."""

import math
import os

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import experiments
from experiments import gan
from experiments.configs import dcgan_digits, gan_digits
from genjax.errors import ConfigError
from genjax.eval import evaluators
from genjax.eval.feature_net import FeatureNet
from genjax.train.experiment import FigureContext
from genjax.train.loop import evaluate_checkpoint, train_and_evaluate
from genjax.train.mesh import make_mesh

SHAPE = (16, 16, 1)


def _config(arch="mlp", **objective):
  # The paper's setting: these tests read the plain objective (the stabilisers have theirs)
  c = (gan_digits if arch == "mlp" else dcgan_digits).get_config("smoke,paper")
  c.model.g_hidden, c.model.d_hidden = (32,), (32,)
  c.model.g_channels, c.model.d_channels = (16, 8), (8, 16)
  c.model.latent_dim = 8
  c.data.batch_size = 12
  c.objective.update(objective)
  return c


def _batch(n=12, seed=0):
  x = jax.random.uniform(jax.random.key(seed), (n, *SHAPE), minval=-1.0, maxval=1.0)
  return {"image": x, "label": jnp.zeros((n,), jnp.int32)}


def _step(c, state=None, steps=1):
  """(state, metrics of every step) after `steps` train steps from `state` (or init)."""
  exp = gan.make(c, SHAPE)
  state = exp.init(jax.random.key(0)) if state is None else state
  step = jax.jit(exp.train_step)
  history = []
  for i in range(steps):
    state, metrics = step(state, _batch(seed=i), jax.random.key(10 + i))
    history.append(metrics)
  return state, history


def _same(a, b):
  return all(np.array_equal(x, y) for x, y in zip(jax.tree.leaves(a), jax.tree.leaves(b)))


@pytest.mark.parametrize("arch, frozen", [("mlp", "gen"), ("mlp", "disc"), ("dcgan", "disc")])
def test_each_update_moves_only_its_own_network(arch, frozen):
  # One network frozen (learning rate 0): the other's update must not touch its
  # parameters. A step that applied one network's gradients or optimiser to the other
  # fails here.
  moving = "disc" if frozen == "gen" else "gen"
  c = _config(arch)
  (c.optim if frozen == "gen" else c.optim_disc).learning_rate = 0.0
  before = gan.make(c, SHAPE).init(jax.random.key(0))
  after, _ = _step(c, jax.tree.map(jnp.copy, before))
  assert _same(before[frozen].params, after[frozen].params), frozen
  assert not _same(before[moving].params, after[moving].params), moving
  assert int(after["gen"].step) == 1 and int(after["disc"].step) == 1
  if arch == "dcgan":  # G's BatchNorm statistics move with G's own (train-mode) pass
    assert not _same(before["gen"].model_state, after["gen"].model_state)


def test_each_of_k_discriminator_steps_sees_its_own_slice_of_the_batch():
  # With D frozen and no batch statistics, the logged mean D(x) over the k = 3 D steps is
  # D's mean over the whole batch only if each step scored a different third of it.
  c = _config("mlp", d_steps=3)
  c.optim_disc.learning_rate = 0.0
  state, (metrics,) = _step(c)
  d = state["disc"]
  disc = gan.build_networks(c, SHAPE)[1]
  logits = disc.apply({"params": d.params}, _batch()["image"], train=False)
  np.testing.assert_allclose(
    float(metrics["train/d_real"]), float(jnp.mean(jax.nn.sigmoid(logits))), rtol=1e-5
  )
  assert int(state["disc"].step) == 3 and int(state["gen"].step) == 1


def test_batch_must_split_into_k_slices():
  from genjax.errors import ConfigError

  with pytest.raises(ConfigError, match="multiple of objective.d_steps"):
    gan.make(_config("mlp", d_steps=5), SHAPE)
  with pytest.raises(ConfigError, match="generator_loss"):
    gan.make(_config("mlp", generator_loss="wasserstein"), SHAPE)


def test_saturating_generator_gradient_vanishes_when_d_rejects_fakes():
  # D says "fake" with logit f ~ -8 everywhere: d/df log(1 - sigma(f)) = -sigma(f) while
  # d/df -log sigma(f) = -(1 - sigma(f)), so the two gradients differ by e^f ~ 3e-4.
  gen = gan.build_networks(_config("mlp"), SHAPE)[0]
  params = gen.init(jax.random.key(0), jnp.zeros((1, 8)))["params"]
  apply_fn = lambda p, s, z: (gen.apply({"params": p}, z), s)
  judge = lambda x, key: -8.0 + 1e-3 * jnp.sum(x.reshape(x.shape[0], -1), -1)
  norms = {}
  for kind in ("minimax", "non_saturating"):
    loss = lambda p: gan.generator_objective(
      apply_fn,
      p,
      _batch(),
      jax.random.key(1),
      model_state={},
      disc=judge,
      kind=kind,
      latent_dim=8,
      prior="uniform",
    )[0]
    g = jax.grad(loss)(params)
    norms[kind] = math.sqrt(sum(float(jnp.sum(v**2)) for v in jax.tree.leaves(g)))
  f = -8.0
  expected = 1 / (1 + math.exp(-f)) / (1 - 1 / (1 + math.exp(-f)))
  np.testing.assert_allclose(norms["minimax"] / norms["non_saturating"], expected, rtol=0.05)


def test_discriminator_objective_matches_the_loss_by_hand_and_blocks_g():
  real, fake = _batch(4)["image"], _batch(4, seed=1)["image"]
  apply_fn = lambda p, s, x, key: (p * jnp.mean(x.reshape(4, -1), -1), s)
  loss, aux = gan.discriminator_objective(
    apply_fn, 2.0, {"image": real}, jax.random.key(0), model_state={}, fake=fake, kind="minimax"
  )
  r, f = (
    2.0 * np.asarray(real).reshape(4, -1).mean(-1),
    2.0 * np.asarray(fake).reshape(4, -1).mean(-1),
  )
  by_hand = np.mean(-np.log(1 / (1 + np.exp(-r))) - np.log(1 - 1 / (1 + np.exp(-f))))
  np.testing.assert_allclose(float(loss), by_hand, rtol=1e-5)
  # No gradient flows into the fakes (that is, into G) from D's loss.
  g = jax.grad(
    lambda fk: gan.discriminator_objective(
      apply_fn, 2.0, {"image": real}, jax.random.key(0), model_state={}, fake=fk, kind="minimax"
    )[0]
  )(fake)
  assert float(jnp.max(jnp.abs(g))) == 0.0


def test_generator_improves_against_a_frozen_discriminator():
  c = _config("mlp")
  c.optim_disc.learning_rate = 0.0
  c.optim.learning_rate = 1e-2
  _, history = _step(c, steps=20)
  assert float(history[-1]["train/g_loss"]) < float(history[0]["train/g_loss"])


def _fake_feature_net():
  # "Class" = brightness decile: enough to exercise the coverage and arithmetic code.
  def apply(x):
    ink = jnp.mean((x + 1) / 2, axis=(1, 2, 3))
    logits = -100.0 * jnp.square(ink[:, None] - (jnp.arange(10) + 0.5) / 10)
    return logits, jnp.stack([ink, ink**2], -1)

  return FeatureNet(name="fake", input_shape=SHAPE, accuracy=1.0, apply=apply)


def test_mode_coverage_by_hand():
  probs = np.eye(10)[[0] * 50 + [1] * 49 + [2]]
  m = evaluators.class_coverage(probs, 0.05)
  assert m["classes_covered"] == 2
  np.testing.assert_allclose(
    m["entropy_nats"], -(0.5 * math.log(0.5) + 0.49 * math.log(0.49) + 0.01 * math.log(0.01))
  )


def test_parzen_sigma_is_never_chosen_on_training_images(tfds_dir):
  c = _config()
  c.data.data_dir = tfds_dir
  c.data.name = "digits"
  c.eval.parzen_valid_split = "train[1000:]"
  # Refused when the evaluator is built, before any sampling: the sampler is never called.
  ctx = evaluators.EvalContext(
    experiment=experiments.build(c), config=c, mesh=make_mesh(), key=jax.random.key(0)
  )
  with pytest.raises(ConfigError, match="parzen_valid_split='train.1000:.' shares images"):
    evaluators.from_config(ctx)
  c.data.train_split = "train[:1000]"
  evaluators.check_parzen_held_out(c)


def test_resumes_exactly_and_draws_its_figures(tfds_dir, tmp_path):
  # With ADA, whose p and gathered signs are state too: the resumed run moves p alike.
  c = _config("mlp", augment="translation", ada_target=0.1, ada_interval=1, ada_max_images=48)
  c.data.name = "digits/16x16"
  c.data.data_dir = tfds_dir
  c.train.num_steps = 4
  c.train.checkpoint_every = 2
  c.train.eval_every = 4
  c.train.sample_every = 2
  c.eval.fd_num_samples = 0
  c.eval.parzen_samples = 100  # the same size as the pool: one compiled generator less
  c.eval.mode_samples = 100
  exp = experiments.build(c)
  whole = str(tmp_path / "whole")
  metrics = train_and_evaluate(exp, c, whole)
  assert 0.0 <= metrics["eval/d_real"] <= 1.0 and np.isfinite(metrics["eval/d_loss"])
  parts = str(tmp_path / "parts")
  c.train.eval_every = c.train.sample_every = 0  # only the step is compiled again
  train_and_evaluate(exp, c, parts, should_stop=lambda step: step == 2)
  train_and_evaluate(exp, c, parts)
  from genjax.train.loop import restore_latest

  (s1, a), (s2, b) = restore_latest(exp, c, whole), restore_latest(exp, c, parts)
  assert s1 == s2 == 4
  assert _same(a, b)  # params, EMA and Adam moments of both networks

  ctx = FigureContext(
    config=c,
    workdir=whole,
    figures_dir=str(tmp_path / "fig"),
    step=4,
    key=jax.random.key(0),
    feature_net=_fake_feature_net(),
  )
  paths = exp.figures(a, ctx)
  names = {os.path.basename(p) for p in paths}
  assert {
    "samples.png",
    "samples_over_training.png",
    "nearest_neighbours.png",
    "interpolation.png",
    "losses.png",
  } <= names
  assert not any(n.endswith(".json") and n != "latent_arithmetic.json" for n in names)
  # Table 1's numbers are the parzen evaluator's, on the finished workdir.
  _, m = evaluate_checkpoint(exp, c, whole, names=["parzen"])
  assert m["eval/parzen_sigma"] in c.eval.parzen_sigmas
  assert np.isfinite(m["eval/parzen_ll"]) and m["eval/parzen_ll_stderr"] > 0
  assert m["eval/parzen_sigma_train_set"] in c.eval.parzen_sigmas
  assert m["eval/parzen_ll_train_set"] > m["eval/parzen_ll"]  # 4 steps: far from the data
