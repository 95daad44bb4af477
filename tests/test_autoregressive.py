"""Autoregressive models: causality of every architecture (raster and colour order), the
fast sampler against the naive one sample for sample, the exact NLL, and a tiny run of
each model through the loop."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import experiments
from experiments import autoregressive
from genjax import autoregressive as ar
from genjax import subpixel
from genjax.errors import ConfigError
from genjax.eval import likelihood
from genjax.nn.pixelcnn import GatedPixelCNN, PixelCNN
from genjax.nn.pixelrnn import DiagonalBiLSTM, RowLSTM, skew, unskew
from genjax.train.loop import train_and_evaluate

H, W = 5, 6
MODELS = {
  "pixelcnn": PixelCNN,
  "gated_pixelcnn": GatedPixelCNN,
  "row_lstm": RowLSTM,
  "diagonal_bilstm": DiagonalBiLSTM,
}


def _model(arch, colors, k=1):
  kw = dict(num_colors=colors, out_per_color=k, hidden=6 * colors, num_layers=2, head_hidden=32)
  if arch == "gated_pixelcnn":
    kw["num_classes"] = 3
  return MODELS[arch](**kw)


def _init(model, colors, seed=0):
  x = jax.random.normal(jax.random.key(seed + 1), (1, H, W, colors))
  label = jnp.array([1]) if isinstance(model, GatedPixelCNN) else None
  return model.init(jax.random.key(seed), x, label)["params"], x, label


@pytest.mark.parametrize("colors", [1, 3])
@pytest.mark.parametrize("arch", sorted(MODELS))
def test_each_sub_pixel_depends_only_on_earlier_ones(arch, colors):
  model = _model(arch, colors)
  params, x, label = _init(model, colors)

  def flat_logits(flat_x):
    out = model.apply({"params": params}, flat_x.reshape(x.shape), label)
    return out.sum(-1).reshape(-1)  # sub-pixel p = (i * W + j) * C + c

  jac = np.abs(np.asarray(jax.jit(jax.jacrev(flat_logits))(x.reshape(-1))))  # [out p, in q]
  d = H * W * colors
  # Exactly zero on and above the diagonal: nothing at or after p reaches p.
  assert not np.any(np.triu(jac) != 0), np.argwhere(np.triu(jac) != 0)[:5]
  pos = lambda i, j, c: (i * W + j) * colors + c
  # ...and some earlier sub-pixel does: a row start, a mid-row pixel, the last one.
  for p in (pos(2, 0, 0), pos(2, 3, 0), pos(H - 1, W - 1, colors - 1)):
    assert np.any(jac[p, :p] != 0), p
  if colors == 3:  # inside one pixel: G sees R, B sees R and G, R sees neither
    p = pos(3, 2, 0)
    assert jac[p + 1, p] != 0 and jac[p + 2, p] != 0 and jac[p + 2, p + 1] != 0
  assert d == jac.shape[0]


def test_diagonal_bilstm_sees_the_whole_row_above_and_gated_has_no_blind_spot():
  # Diagonal BiLSTM: pixel (2, 0) depends on (1, W-2), through the right-to-left
  # direction of row 1. Not on (1, W-1): a feature never holds its own pixel (mask A,
  # then mask B), so the last pixel of a row enters only features after it, which lie
  # in the next row, where the right-to-left map is shifted one row further down.
  model = _model("diagonal_bilstm", 1)
  params, x, _ = _init(model, 1)
  g = jax.jit(jax.grad(lambda x: model.apply({"params": params}, x)[0, 2, 0].sum()))(x)
  assert g[0, 1, W - 2, 0] != 0 and g[0, 1, W - 1, 0] == 0
  # Gated PixelCNN: (2, 2) sees (1, 4) (up-right), PixelCNN's blind spot with 3x3.
  for arch, expect in (("gated_pixelcnn", True), ("pixelcnn", False)):
    m = MODELS[arch](hidden=6, num_layers=2, head_hidden=32, first_kernel=3, kernel=3)
    p = m.init(jax.random.key(0), x)["params"]
    g = jax.jit(jax.grad(lambda x, m=m, p=p: m.apply({"params": p}, x)[0, 3, 1].sum()))(x)
    assert (g[0, 2, 3, 0] != 0) == expect, arch


@pytest.mark.parametrize(
  "arch, colors, complete, dist",
  [
    ("pixelcnn", 1, False, subpixel.Bernoulli()),
    ("gated_pixelcnn", 1, False, subpixel.Bernoulli()),
    ("row_lstm", 1, False, subpixel.Bernoulli()),
    ("diagonal_bilstm", 1, False, subpixel.LogisticMixture(3)),
    ("gated_pixelcnn", 3, True, subpixel.Softmax()),
  ],
)
def test_fast_sampler_equals_naive_sample_for_sample(arch, colors, complete, dist):
  k = dist.num_params
  model = _model(arch, colors, k)
  params, _, _ = _init(model, colors)
  samplers = autoregressive.make_samplers(model, (H, W, colors), dist)
  label = jnp.array([0, 1, 2]) if arch == "gated_pixelcnn" else None
  key = jax.random.key(7)
  given = jax.random.uniform(jax.random.key(3), (3, H, W, colors), minval=-1, maxval=1)
  start = ar.first_hidden((H, W, colors), 2) + 1  # mid-row: one pixel of row 2 given

  if not complete:
    given, start = None, 0

  @jax.jit
  def both(params):
    return {
      name: s(params, key, 3, label=label, given=given, start=start) for name, s in samplers.items()
    }

  out = jax.tree.map(np.asarray, both(params))
  # The same draws, compared as bins. The values are the bins' centres k·2/255 − 1, which
  # XLA may compute with a fused multiply-add in one program and not in the other: 1 ulp
  # apart under the tests' XLA:CPU flags (tests/conftest.py), bitwise equal without them.
  np.testing.assert_array_equal(likelihood.to_bins(out["fast"]), likelihood.to_bins(out["naive"]))
  np.testing.assert_allclose(out["fast"], out["naive"], rtol=0, atol=1e-6)
  flat = out["fast"].reshape(3, -1)
  if complete:
    np.testing.assert_array_equal(flat[:, :start], np.asarray(given).reshape(3, -1)[:, :start])
  values = np.unique(flat[:, start:])  # the drawn sub-pixels
  if k == 1:
    assert set(values) <= {-1.0, 1.0}
  else:
    np.testing.assert_allclose(np.round((values + 1) * 127.5), (values + 1) * 127.5, atol=1e-4)
  assert len(np.unique(flat[:, start:])) > 1  # completions are drawn, not copied


@pytest.mark.parametrize("dist, bits", [(subpixel.Bernoulli(), 1.0), (subpixel.Softmax(), 8.0)])
def test_uniform_logits_give_one_bit_or_eight_bits_per_dim(dist, bits):
  x = jnp.asarray(np.random.default_rng(0).choice([-1.0, 1.0], (2, 3, 4, 1)), jnp.float32)
  apply_fn = lambda params, x, label: jnp.zeros(x.shape + (dist.num_params,))
  loss, aux = autoregressive.nll_loss(
    apply_fn, dist, None, {"image": x, "label": None}, None, conditional=False
  )
  np.testing.assert_allclose(np.asarray(aux["nll"]), 12 * bits * math.log(2), rtol=1e-6)
  np.testing.assert_allclose(float(loss), 12 * bits * math.log(2), rtol=1e-6)


def test_bernoulli_and_softmax_nll_match_a_direct_computation():
  x = jnp.array([1.0, -1.0, 2 * 5 / 255 - 1]).reshape(1, 1, 3, 1)
  logits = jnp.array([0.3, -1.2, 0.7]).reshape(1, 1, 3, 1, 1)
  sig = lambda z: 1 / (1 + math.exp(-z))
  want = -(math.log(sig(0.3)) + math.log(1 - sig(-1.2)))
  got = -subpixel.Bernoulli().log_prob(logits[:, :, :2], x[:, :, :2])
  np.testing.assert_allclose(float(got[0]), want, rtol=1e-6)
  soft = jnp.zeros((1, 1, 1, 1, 256)).at[..., 5].set(2.0)
  want = -(2.0 - math.log(255 + math.exp(2.0)))
  got = -subpixel.Softmax().log_prob(soft, x[:, :, 2:])
  np.testing.assert_allclose(float(got[0]), want, rtol=1e-6)


def _logistic_mixture_probs(dist, params):
  """p(k) of every 8-bit value k under one mixture, params [K]."""
  bins = jnp.arange(256, dtype=jnp.float32) * (2 / 255) - 1
  log_p = jax.vmap(lambda v: dist.log_prob(params[None, None], v[None, None]))(bins)
  return np.exp(np.asarray(log_p[:, 0], np.float64))


def test_logistic_mixture_is_a_distribution_over_the_256_values_and_sampled_from_it():
  dist = subpixel.LogisticMixture(3)
  #               weights          means             log-scales
  params = jnp.array([0.5, -1.0, 0.2, -0.6, 0.1, 0.95, -2.5, -4.0, -9.0])
  p = _logistic_mixture_probs(dist, params)
  np.testing.assert_allclose(p.sum(), 1.0, atol=1e-5)
  # One component, by hand: σ((x + 1/255 − μ)/s) − σ((x − 1/255 − μ)/s) at x = bin 100.
  one = subpixel.LogisticMixture(1)
  mu, log_s, x = 0.1, -2.0, 2 * 100 / 255 - 1
  sig = lambda z: 1 / (1 + math.exp(-z))
  want = sig((x + 1 / 255 - mu) / math.exp(log_s)) - sig((x - 1 / 255 - mu) / math.exp(log_s))
  got = one.log_prob(jnp.array([[0.0, mu, log_s]]), jnp.array([x]))
  np.testing.assert_allclose(float(jnp.exp(got[0])), want, rtol=1e-5)
  # The edge bins take the tails: a component far left puts its mass on value 0.
  far = one.log_prob(jnp.array([[0.0, -5.0, -3.0]]), jnp.array([-1.0]))
  np.testing.assert_allclose(float(far[0]), 0.0, atol=1e-6)
  # Draws land on bin centres with the frequencies log_prob gives (the third component's
  # log-scale is below the floor, so both sides must clip it alike).
  n = 200_000
  draws = dist.sample(jax.random.key(0), jnp.broadcast_to(params, (n, 9)))
  k = np.round((np.asarray(draws) + 1) * 127.5).astype(int)
  np.testing.assert_allclose((np.asarray(draws) + 1) * 127.5, k, atol=1e-3)
  freq = np.bincount(k, minlength=256) / n
  assert 0.5 * np.abs(freq - p).sum() < 0.01  # total variation; sampling noise ~0.004


def test_skew_shifts_row_i_right_by_i_and_unskew_inverts_it():
  x = jnp.arange(2 * 3 * 4 * 1, dtype=jnp.float32).reshape(2, 3, 4, 1) + 1
  s = skew(x)
  assert s.shape == (2, 3, 6, 1)
  for i in range(3):
    np.testing.assert_array_equal(s[:, i, i : i + 4], x[:, i])
    assert float(jnp.abs(s[:, i, :i]).sum() + jnp.abs(s[:, i, i + 4 :]).sum()) == 0
  np.testing.assert_array_equal(unskew(s, 4), x)


def test_bad_config_values_are_config_errors(tfds_dir):
  from experiments.configs import pixelcnn_digits

  for field, value in (("arch", "pixelgan"), ("likelihood", "gauss"), ("conditional", True)):
    c = pixelcnn_digits.get_config("smoke")
    c.data.data_dir = tfds_dir
    c.model[field] = value
    with pytest.raises(ConfigError):
      experiments.build(c)


@pytest.mark.parametrize(
  "name",
  ["pixelcnn:logistic", "gated_pixelcnn:conditional", "row_lstm", "diagonal_bilstm:softmax8bit"],
)
def test_tiny_run_of_each_model_trains_and_evaluates(name, tfds_dir, tmp_path):
  import importlib

  module, _, arg = name.partition(":")
  c = importlib.import_module(f"experiments.configs.{module}_digits").get_config(
    ",".join(["smoke"] + ([arg] if arg else []))
  )
  c.data.data_dir = tfds_dir
  c.data.name = "digits/8x8"
  c.train.num_steps = 2
  c.train.checkpoint_every = 2
  c.train.eval_every = 2
  c.train.sample_every = 0
  c.eval.fd_num_samples = 0
  experiment = experiments.build(c)
  metrics = train_and_evaluate(experiment, c, str(tmp_path / "w"))
  d = 8 * 8
  assert np.isfinite(metrics["eval/nll"]) and metrics["eval/nll"] > 0
  np.testing.assert_allclose(
    metrics["eval/bits_per_dim"], metrics["eval/nll"] / (d * math.log(2)), rtol=1e-5
  )
  if c.model.likelihood == "softmax":
    assert metrics["eval/bits_per_dim"] < 8.5  # near uniform after two steps
  if c.model.conditional:  # launch.sample's path, with the labels of a conditional model
    images = jax.jit(experiment.sample, static_argnums=2)(
      experiment.init(jax.random.key(0)), jax.random.key(1), 2
    )
    assert images.shape == (2, 8, 8, 1) and set(np.unique(images)) <= {-1.0, 1.0}
    _draws_its_figures(experiment, c, str(tmp_path / "w"), metrics)


def _draws_its_figures(experiment, c, workdir, metrics):
  import os

  from genjax.train.experiment import FigureContext
  from genjax.train.loop import evaluate_checkpoint, restore_latest

  step, state = restore_latest(experiment, c, workdir)
  figdir = os.path.join(workdir, "figures_test")
  os.makedirs(figdir)
  from experiments.feature_net import ensure_feature_net

  with_net = c.copy_and_resolve_references()
  with_net.eval.fd_num_samples = 1  # the run skipped Fréchet distances; the figures need the net
  net = ensure_feature_net(with_net)
  paths = experiment.figures(
    state,
    FigureContext(
      config=c,
      workdir=workdir,
      figures_dir=figdir,
      step=step,
      key=jax.random.key(0),
      feature_net=net,
    ),
  )
  assert {os.path.basename(p) for p in paths} == {
    "samples.png",
    "completions.png",
    "class_conditional.png",
    "nll.png",
  }
  # The floor no model of dynamically binarised data can beat: an evaluator.
  _, floor = evaluate_checkpoint(experiment, c, workdir, names=["binarization_floor"])
  assert 0 < floor["eval/binarization_floor_nll"] < metrics["eval/nll"]
  # How often a sample is of the class it was drawn for: an evaluator, not a figure.
  with c.unlocked():
    c.evals.class_accuracy = dict(type="class_accuracy", every=0, num_per_class=2)
  _, named = evaluate_checkpoint(experiment, c, workdir, feature_net=net, names=["class_accuracy"])
  assert 0 <= named["eval/class_accuracy"] <= 1 and 0 < named["eval/class_accuracy_real"] <= 1


def test_binarization_floor_is_the_bernoulli_entropy_of_the_grey_levels():
  from genjax.eval import likelihood

  grey = jnp.array([[0.5, 0.0, 1.0, 0.5], [0.25, 0.25, 0.25, 0.25]])
  h = lambda p: -(p * math.log(p) + (1 - p) * math.log(1 - p))
  np.testing.assert_allclose(
    likelihood.binarization_entropy(grey), [2 * math.log(2), 4 * h(0.25)], rtol=1e-6
  )


@pytest.mark.parametrize(
  "name", ["diagonal_bilstm_binarized_mnist", "gated_pixelcnn_cifar10:logistic"]
)
def test_paper_config_trains_on_mock_data(name, tmp_path):
  import importlib

  from genjax import data as gdata

  name, _, arg = name.partition(":")
  c = importlib.import_module(f"experiments.configs.{name}").get_config(
    ",".join(["smoke"] + ([arg] if arg else []))
  )
  c.data.data_dir = str(tmp_path / "tfds")
  c.train.num_steps = 2
  c.train.checkpoint_every = 2
  c.train.eval_every = 2
  c.train.sample_every = 0
  c.data.eval_batch_size = 10
  with gdata.mock_catalog(num_examples=10, max_value=2 if "binarized" in name else None):
    metrics = train_and_evaluate(experiments.build(c), c, str(tmp_path / "w"))
  assert np.isfinite(metrics["eval/nll"]) and metrics["eval/bits_per_dim"] > 0
