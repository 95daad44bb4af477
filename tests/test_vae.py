"""The VAE objective: analytic cases, the bound ordering, both decoders and backbones."""
import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy import stats

import experiments
from experiments import vae
from genjax.train.loop import train_and_evaluate

_RAW_UNIT_VAR = math.log(math.expm1(7.0)) - 7.0  # decoder output whose log-variance is 0


def _linear_gaussian(posterior_exact: bool):
  """p(z) = N(0, 1), p(x|z) = N(z, 1), so p(x) = N(0, 2) and p(z|x) = N(x/2, 1/2)."""
  def apply_fn(params, inp, method):
    del params
    if method == "encode":
      x = inp.reshape(inp.shape[0], 1)
      if posterior_exact:
        return 0.5 * x, jnp.full_like(x, math.log(0.5))
      return jnp.zeros_like(x), jnp.zeros_like(x)
    z = inp
    return jnp.concatenate([z, jnp.full_like(z, _RAW_UNIT_VAR)], -1).reshape(-1, 1, 1, 2)
  return apply_fn


X = jnp.array([-1.5, 0.2, 2.0]).reshape(3, 1, 1, 1)
LOG_PX = stats.norm.logpdf(np.asarray(X).ravel(), 0.0, math.sqrt(2.0))


def test_exact_posterior_makes_elbo_and_iw_equal_log_px():
  log_w, _, kl = vae.importance_weights(_linear_gaussian(True), None, X, jax.random.key(0),
                                        likelihood="gaussian", k=64, chunk=16)
  # With q = p(z|x) every importance weight equals p(x): zero variance.
  np.testing.assert_allclose(np.asarray(log_w), np.broadcast_to(LOG_PX, (64, 3)), atol=1e-4)
  loss, aux = vae.elbo_loss(_linear_gaussian(True), None, {"image": X}, jax.random.key(1),
                            likelihood="gaussian", beta=1.0)
  # A single-sample ELBO with the closed-form KL is unbiased, not exact: average many.
  keys = jax.random.split(jax.random.key(2), 4000)
  elbos = jax.vmap(lambda k: vae.elbo_loss(_linear_gaussian(True), None, {"image": X}, k,
                                           likelihood="gaussian", beta=1.0)[1]["elbo"])(keys)
  np.testing.assert_allclose(np.asarray(elbos.mean(0)), LOG_PX, atol=0.05)
  assert np.isfinite(float(loss)) and aux["kl"].shape == (3,)


def test_elbo_is_below_the_importance_weighted_bound_which_approaches_log_px():
  log_w, log_px_z, kl = vae.importance_weights(
      _linear_gaussian(False), None, X, jax.random.key(3), likelihood="gaussian",
      k=4000, chunk=1000)
  elbo = np.asarray(jnp.mean(log_px_z, 0) - kl)
  iw = np.asarray(jax.nn.logsumexp(log_w, 0) - math.log(4000))
  assert np.all(elbo < iw)                       # Burda et al.: L_1 <= L_k
  assert np.all(np.asarray(jnp.mean(log_w, 0)) <= iw)  # Jensen, sample for sample
  assert np.all(iw <= LOG_PX + 0.02)             # and L_k <= log p(x), up to MC noise
  np.testing.assert_allclose(iw, LOG_PX, atol=0.05)
  # The gap of the prior-as-posterior ELBO is KL(N(0,1) || N(x/2, 1/2)), in closed form.
  gap = 0.5 * (2.0 * (1.0 + (np.asarray(X).ravel() / 2) ** 2) - 1.0 + math.log(0.5))
  np.testing.assert_allclose(LOG_PX - elbo, gap, atol=0.05)


def test_bernoulli_elbo_matches_a_direct_computation():
  x = jnp.array([[[[1.0], [-1.0]]]])  # one 1x2 image, pixels {1, 0}
  def apply_fn(params, inp, method):
    if method == "encode":
      return jnp.array([[0.3]]), jnp.array([[-0.2]])
    return jnp.full((inp.shape[0], 1, 2, 1), 0.4)  # logits
  _, aux = vae.elbo_loss(apply_fn, None, {"image": x}, jax.random.key(0),
                         likelihood="bernoulli", beta=1.0)
  p = 1 / (1 + math.exp(-0.4))
  rec = math.log(p) + math.log(1 - p)
  kl = 0.5 * (0.09 + math.exp(-0.2) - 1 + 0.2)
  np.testing.assert_allclose(float(aux["rec"][0]), rec, rtol=1e-5)
  np.testing.assert_allclose(float(aux["kl"][0]), kl, rtol=1e-5)


@pytest.mark.parametrize("variant, likelihood", [("conv", "bernoulli"), ("latent20", "gaussian")])
def test_other_backbones_and_decoders_train_and_evaluate(variant, likelihood, tfds_dir, tmp_path):
  from experiments.configs import vae_digits
  c = vae_digits.get_config(f"smoke,{variant}")
  c.data.data_dir = tfds_dir
  c.objective.likelihood = likelihood
  c.train.num_steps = 10
  c.train.checkpoint_every = 10
  metrics = train_and_evaluate(experiments.build(c), c, str(tmp_path / variant))
  assert np.isfinite(metrics["eval/elbo"])
  assert metrics["eval/elbo"] <= -metrics["eval/iw_nll"]


def test_bfloat16_compute_keeps_float32_parameters(vae_smoke):
  vae_smoke.train.compute_dtype = "bfloat16"
  experiment = experiments.build(vae_smoke)
  state = experiment.init(jax.random.key(0))
  batch = {"image": jnp.zeros((4, 28, 28, 1)) - 1.0, "label": jnp.zeros((4,), jnp.int32)}
  state, metrics = jax.jit(experiment.train_step)(state, batch, jax.random.key(1))
  assert all(p.dtype == jnp.float32 for p in jax.tree.leaves(state.params))
  assert np.isfinite(float(metrics["train/loss"]))
