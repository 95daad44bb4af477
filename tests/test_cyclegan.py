"""CycleGAN: the generator objective on hand-made inputs, each network moved only by its
own objective, the pool inside the step, exact resume, and the paper configs on mock data."""

from unittest import mock

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import experiments
from experiments import cyclegan
from experiments.configs import cyclegan_digits, cyclegan_horse2zebra
from genjax import data as gdata
from genjax import image_pool
from genjax.data import pipeline
from genjax.data.digits_cycle import appearance
from genjax.errors import ConfigError
from genjax.nn.cyclegan import PatchDiscriminator, ResnetGenerator, patch_receptive_field
from genjax.train import evaluation
from genjax.train import mesh as mesh_lib
from genjax.train.loop import train_and_evaluate
from genjax.train.state import TrainState


def _scalar_nets(params, model_state, v, *, net, train=False):
  """G/F multiply by their scalar parameter, D_X/D_Y too (one score per pixel)."""
  del net, train
  return params["w"] * v, model_state


def test_generator_objective_on_hand_made_inputs():
  rng = np.random.default_rng(0)
  x = rng.uniform(-1, 1, (2, 4, 4, 1)).astype(np.float32)
  y = rng.uniform(-1, 1, (2, 4, 4, 1)).astype(np.float32)
  a, b, dx, dy = 0.5, 3.0, 0.7, -0.2
  params = {"G": {"w": jnp.float32(a)}, "F": {"w": jnp.float32(b)}}
  disc = {"D_X": {"w": jnp.float32(dx)}, "D_Y": {"w": jnp.float32(dy)}}
  loss, aux = cyclegan.generator_objective(
    _scalar_nets,
    params,
    {"image_a": x, "image_b": y},
    None,
    disc_params=disc,
    gan_loss="lsgan",
    lambda_cycle=10.0,
    lambda_identity=0.5,
  )
  ax, ay = np.abs(x).mean(), np.abs(y).mean()
  cycle = abs(a * b - 1) * (ax + ay)  # |F(G(x)) - x| + |G(F(y)) - y|
  identity = abs(a - 1) * ay + abs(b - 1) * ax  # |G(y) - y| + |F(x) - x|
  adv_g = np.mean((dy * a * x - 1) ** 2)  # (D_Y(G(x)) - 1)^2
  adv_f = np.mean((dx * b * y - 1) ** 2)
  np.testing.assert_allclose(float(aux["cycle"]), cycle, rtol=1e-5)
  np.testing.assert_allclose(float(aux["identity"]), identity, rtol=1e-5)
  np.testing.assert_allclose(float(aux["adv_G"]), adv_g, rtol=1e-5)
  np.testing.assert_allclose(float(loss), adv_g + adv_f + 10 * cycle + 5 * identity, rtol=1e-5)
  no_id, aux = cyclegan.generator_objective(
    _scalar_nets,
    params,
    {"image_a": x, "image_b": y},
    None,
    disc_params=disc,
    gan_loss="lsgan",
    lambda_cycle=10.0,
    lambda_identity=0.0,
  )
  np.testing.assert_allclose(float(no_id), adv_g + adv_f + 10 * cycle, rtol=1e-5)


def test_discriminator_objective_is_lsgan():
  real, fake = jnp.full((3, 2, 2, 1), 0.5), jnp.full((3, 2, 2, 1), -1.0)
  loss, _ = cyclegan.discriminator_objective(
    _scalar_nets, {"w": jnp.float32(2.0)}, {"real": real, "fake": fake}, None, gan_loss="lsgan"
  )
  np.testing.assert_allclose(float(loss), 0.5 * ((1.0 - 1) ** 2 + (-2.0) ** 2))


def test_each_network_moves_only_by_its_own_objective():
  shape = (8, 8, 1)
  gen, disc = ResnetGenerator(1, features=4, num_blocks=1), PatchDiscriminator(4, 1)
  nets = {"generator": gen, "discriminator": disc}
  apply_fn = lambda p, s, v, *, net, train=False: (nets[net].apply({"params": p}, v), s)
  rng = np.random.default_rng(1)
  batch = {
    "image_a": jnp.asarray(rng.uniform(-1, 1, (2, *shape)), jnp.float32),
    "image_b": jnp.asarray(rng.uniform(-1, 1, (2, *shape)), jnp.float32),
  }
  keys = jax.random.split(jax.random.key(0), 4)
  x = jnp.zeros((1, *shape))
  sgd = optax.sgd(1.0)  # the update is then exactly minus the gradient
  state = {
    n: TrainState.create(
      nets["generator" if n in "GF" else "discriminator"].init(k, x)["params"], sgd
    )
    for n, k in zip(("G", "F", "D_X", "D_Y"), keys)
  }
  state["pool_X"] = image_pool.init(4, shape)
  state["pool_Y"] = image_pool.init(4, shape)
  step = cyclegan.make_train_step(
    apply_fn, sgd, sgd, gan_loss="lsgan", lambda_cycle=10.0, lambda_identity=0.5, ema_decay=0.0
  )
  new, metrics = step(state, batch, jax.random.key(1))

  gen_params = {n: state[n].params for n in ("G", "F")}
  disc_params = {n: state[n].params for n in ("D_X", "D_Y")}
  g_grad = jax.grad(
    lambda p: cyclegan.generator_objective(
      apply_fn,
      p,
      batch,
      None,
      disc_params=disc_params,
      gan_loss="lsgan",
      lambda_cycle=10.0,
      lambda_identity=0.5,
    )[0]
  )(gen_params)
  # A pool that is filling hands each discriminator this step's fakes unchanged.
  fakes = {
    "D_X": apply_fn(state["F"].params, {}, batch["image_b"], net="generator")[0],
    "D_Y": apply_fn(state["G"].params, {}, batch["image_a"], net="generator")[0],
  }
  reals = {"D_X": batch["image_a"], "D_Y": batch["image_b"]}
  expected = dict(g_grad)
  for n in ("D_X", "D_Y"):
    expected[n] = jax.grad(
      lambda p: cyclegan.discriminator_objective(
        apply_fn, p, {"real": reals[n], "fake": fakes[n]}, None, gan_loss="lsgan"
      )[0]
    )(state[n].params)
  for n, grad in expected.items():
    moved = jax.tree.map(lambda new_p, old_p: old_p - new_p, new[n].params, state[n].params)
    for got, want in zip(jax.tree.leaves(moved), jax.tree.leaves(grad)):
      np.testing.assert_allclose(np.asarray(got), np.asarray(want), rtol=2e-4, atol=1e-6)
  np.testing.assert_allclose(
    np.asarray(new["pool_Y"]["images"][:2]), np.asarray(fakes["D_Y"]), atol=1e-6
  )
  assert int(new["pool_X"]["count"]) == 2 and np.isfinite(float(metrics["train/loss_G"]))


def test_patch_receptive_field_is_the_papers_70():
  assert patch_receptive_field(3) == 70 and patch_receptive_field(1) == 16


def _tiny(tfds_dir, steps):
  c = cyclegan_digits.get_config("smoke")
  c.data.name = "digits_cycle/8x8"
  c.data.data_dir = tfds_dir
  c.data.batch_size = 2
  c.data.eval_batch_size = 150
  c.model.gen_features, c.model.gen_blocks = 4, 1
  c.model.disc_features, c.model.disc_layers = 4, 1
  c.objective.pool_size = 3  # full after two steps: the resumed steps swap
  c.train.num_steps = steps
  c.train.log_every = 1
  c.train.eval_every = 0
  c.train.checkpoint_every = 100
  return c


def _metrics_by_hand(g, f, x, y):
  """Each domain's eval metrics over its distinct images, in float64."""
  err = lambda d: (float(np.mean(np.abs(d))), float(np.mean(np.square(d))))
  tx, ty = appearance.transform(x), appearance.inverse_transform(y)
  out = {"eval/cycle_a": err(f(g(x)) - x)[0], "eval/cycle_b": err(g(f(y)) - y)[0]}
  out["eval/mae_ab"], out["eval/mse_ab"] = err(g(x) - tx)
  out["eval/mae_ba"], out["eval/mse_ba"] = err(f(y) - ty)
  out["eval/identity_mae_ab"], out["eval/identity_mse_ab"] = err(x - tx)
  out["eval/identity_mae_ba"], out["eval/identity_mse_ba"] = err(y - ty)
  return out


def _loop_means(batches, g, f, config):
  """The loop's own averaging (evaluate_split) over hand-made paired batches."""
  eval_fn = jax.jit(lambda state, batch, key: cyclegan.eval_metrics(g, f, batch, known=True))
  with mock.patch.object(gdata, "iterate_eval", lambda *a, **k: iter(batches)):
    return evaluation.evaluate_split(
      eval_fn, None, config, mesh_lib.make_mesh(), key=jax.random.key(0), split="testA,testB"
    )


@pytest.mark.parametrize("n_a, n_b", [(3, 7), (7, 2)])
def test_eval_counts_each_hand_made_image_once(n_a, n_b):
  # The pass of max(n_a, n_b) rows repeats the shorter domain's images, some more often
  # than others. Constant images make any repeat visible in every metric.
  x = np.linspace(-0.9, 0.8, n_a)[:, None, None, None] * np.ones((n_a, 8, 8, 1))
  y = np.linspace(-0.5, 0.95, n_b)[:, None, None, None] * np.ones((n_b, 8, 8, 1))
  g, f = (lambda v: 0.5 * v), (lambda v: v * v - 0.3)
  total = max(n_a, n_b)
  rows = lambda d, p: {
    "image": d[p % len(d)].astype(np.float32),
    "label": np.zeros(len(p), np.int32),
  }
  batches = [
    pipeline.paired_rows(rows(x, p), rows(y, p), p, sizes=(n_a, n_b), total=total, batch=4)
    for p in (np.arange(0, 4), np.arange(4, total))
  ]  # the second is padded
  got = _loop_means(batches, g, f, cyclegan_digits.get_config("smoke"))
  want = _metrics_by_hand(g, f, x, y)
  assert set(got) == set(want)
  for k, v in want.items():
    np.testing.assert_allclose(got[k], v, rtol=1e-5, err_msg=k)


def test_paired_eval_batches_weigh_each_domain_once(tfds_dir):
  # The real pass: 150 A images against 673 B ones, so A's repeat four and a half times.
  c = _tiny(tfds_dir, steps=1)
  c.data.eval_batch_size = 100
  split = "testA,trainB"
  g, f = (lambda v: 0.5 * v), (lambda v: v * v - 0.3)
  batches = list(gdata.iterate_eval(c.data, split))
  got = _loop_means(batches, g, f, c)
  x, y = (gdata.load_split(c.data, s)["image"].astype(np.float64) for s in split.split(","))
  assert (len(x), len(y)) == (150, 673)
  for k, v in _metrics_by_hand(g, f, x, y).items():
    np.testing.assert_allclose(got[k], v, rtol=1e-5, err_msg=k)


def test_stopped_and_resumed_run_equals_unstopped_one(tfds_dir, tmp_path):
  c = _tiny(tfds_dir, steps=5)
  exp = experiments.build(c)
  train_and_evaluate(exp, c, str(tmp_path / "full"))
  train_and_evaluate(exp, c, str(tmp_path / "resumed"), should_stop=lambda s: s == 3)
  train_and_evaluate(exp, c, str(tmp_path / "resumed"))
  from genjax.train.loop import restore_latest  # pylint: disable=import-outside-toplevel

  (s1, full), (s2, resumed) = (
    restore_latest(exp, c, str(tmp_path / w)) for w in ("full", "resumed")
  )
  assert s1 == s2 == 5 and int(full["pool_X"]["count"]) == 3
  for a, b in zip(jax.tree.leaves(full), jax.tree.leaves(resumed)):
    np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
  rows = jax.jit(exp.sample_given)(
    full, next(gdata.iterate_eval(c.data, "testA,testB")), jax.random.key(0)
  )
  assert rows.shape == (6, 150, 8, 8, 1) and float(jnp.max(jnp.abs(rows))) <= 1.0


def test_bad_configs_are_one_clear_error(tfds_dir):
  c = _tiny(tfds_dir, steps=1)
  c.eval.split = "testA"
  with pytest.raises(ConfigError, match="eval.split must name two test splits"):
    experiments.build(c)
  c = _tiny(tfds_dir, steps=1)
  c.data.domains = ()
  with pytest.raises(ConfigError, match="needs two domains"):
    experiments.build(c)


def test_paper_config_trains_on_mock_data(tmp_path):
  c = cyclegan_horse2zebra.get_config("smoke")
  assert c.model.gen_blocks == 1  # the smoke variant; the full one is the paper's
  full = cyclegan_horse2zebra.get_config()
  assert (full.model.gen_blocks, full.data.image_size, full.data.batch_size) == (9, 256, 1)
  c.data.data_dir = str(tmp_path / "tfds")
  c.data.image_size = 16
  c.train.num_steps = 2
  c.train.checkpoint_every = 2
  c.train.eval_every = 2
  with gdata.mock_catalog(num_examples=4):
    metrics = train_and_evaluate(experiments.build(c), c, str(tmp_path / "w"))
  assert np.isfinite(metrics["eval/cycle_a"]) and "eval/mae_ab" not in metrics
