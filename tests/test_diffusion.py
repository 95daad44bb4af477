"""The diffusion math against independent derivations: the forward marginals against the
one-step chain, the posterior against Bayes' rule, DDIM against ancestral sampling, the
bound of an exactly known model against closed forms."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy import stats

from genjax import diffusion, losses
from genjax.eval import likelihood

T = 50


@pytest.fixture(scope="module", params=["linear", "cosine"])
def sched(request):
  return diffusion.make_schedule(request.param, T)


def test_marginal_matches_iterating_the_one_step_process(sched):
  # x_t = √(1-β_t) x_{t-1} + √β_t ε: the mean scales by √(1-β_t), the variance obeys
  # v_t = (1-β_t) v_{t-1} + β_t, from v_0 = 0.
  betas = np.asarray(sched.betas, np.float64)
  x0 = jnp.array([[-1.0, 0.3, 0.9]])
  coef, var = 1.0, 0.0
  for i in range(T):
    coef *= math.sqrt(1 - betas[i])
    var = (1 - betas[i]) * var + betas[i]
    mean, v = diffusion.q_mean_variance(sched, x0, jnp.array([i]))
    np.testing.assert_allclose(np.asarray(mean), coef * np.asarray(x0), rtol=2e-5, atol=1e-6)
    np.testing.assert_allclose(np.asarray(v), var, rtol=2e-5, atol=1e-7)


def test_marginal_matches_monte_carlo_of_the_chain():
  s = diffusion.make_schedule("linear", 20, beta_end=0.2)
  x = jnp.full((200_000,), 0.7)
  for i, k in enumerate(jax.random.split(jax.random.key(0), 20)):
    x = jnp.sqrt(1 - s.betas[i]) * x + jnp.sqrt(s.betas[i]) * jax.random.normal(k, x.shape)
  mean, var = diffusion.q_mean_variance(s, jnp.array([[0.7]]), jnp.array([19]))
  np.testing.assert_allclose(float(jnp.mean(x)), float(mean[0, 0]), atol=0.01)
  np.testing.assert_allclose(float(jnp.var(x)), float(var[0, 0]), rtol=0.01)


def test_posterior_is_bayes_rule_for_gaussians(sched):
  # Prior x_{t-1} ~ N(√ᾱ_{t-1} x_0, 1-ᾱ_{t-1}), likelihood x_t ~ N(√α_t x_{t-1}, β_t).
  b = np.asarray(sched.betas, np.float64)
  ac = np.cumprod(1 - b)
  x0, xt = 0.4, -0.8
  for i in range(1, T):
    prec = 1 / (1 - ac[i - 1]) + (1 - b[i]) / b[i]
    var = 1 / prec
    mean = var * (math.sqrt(ac[i - 1]) * x0 / (1 - ac[i - 1]) + math.sqrt(1 - b[i]) * xt / b[i])
    m, v, logv = diffusion.q_posterior(sched, jnp.array([[x0]]), jnp.array([[xt]]), jnp.array([i]))
    np.testing.assert_allclose(float(m[0, 0]), mean, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(float(v[0, 0]), var, rtol=1e-4)
    np.testing.assert_allclose(float(jnp.exp(logv[0, 0])), var, rtol=1e-4)


def _some_eps(x, t):
  return 0.5 * jnp.tanh(x) + 0.01 * t.reshape(-1, 1, 1, 1)


@pytest.mark.parametrize("clip", [False, True])
def test_ddim_with_eta_one_and_all_steps_is_the_ancestral_update(sched, clip):
  x = jax.random.normal(jax.random.key(1), (4, 3, 3, 1)) * 1.5
  assert list(diffusion.ddim_timesteps(T, T)) == list(range(T))
  for i in (T - 1, T // 2, 3, 1):
    _, _, mean, var = diffusion.ddim_step(
      sched, _some_eps, x, i, i - 1, jax.random.key(2), eta=1.0, clip_x0=clip
    )
    p_mean, _, _ = diffusion.p_mean_variance(
      sched, _some_eps, x, jnp.full((4,), i), var_type="fixed_small", clip_x0=clip
    )
    np.testing.assert_allclose(np.asarray(mean), np.asarray(p_mean), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(float(var), float(sched.posterior_variance[i]), rtol=1e-3)


def test_ddim_eta_zero_is_deterministic_and_timesteps_uniform():
  s = diffusion.make_schedule("linear", 1000)
  np.testing.assert_array_equal(diffusion.ddim_timesteps(1000, 10), np.arange(0, 1000, 100))
  sample = diffusion.make_ddim_sampler(s, _some_eps, num_steps=10, eta=0.0)
  x_T = jax.random.normal(jax.random.key(0), (2, 2, 2, 1))
  np.testing.assert_array_equal(
    np.asarray(sample(jax.random.key(1), x_T)), np.asarray(sample(jax.random.key(2), x_T))
  )


def _point_mass_eps(s, x0):
  """The exact ε-prediction when the data is the single image x0."""
  return lambda xt, t: diffusion.eps_from_x0(s, xt, t, jnp.broadcast_to(x0, xt.shape))


def test_samplers_and_inpainting_recover_a_point_mass():
  s = diffusion.make_schedule("linear", 100)
  x0 = likelihood.from_bins(jnp.array([0, 40, 128, 255]).reshape(1, 2, 2, 1))
  eps = _point_mass_eps(s, x0)
  x_T = jax.random.normal(jax.random.key(0), (3, 2, 2, 1))
  for sample in (
    diffusion.make_ancestral_sampler(s, eps),
    diffusion.make_ddim_sampler(s, eps, num_steps=10, eta=0.0),
    diffusion.make_ddim_sampler(s, eps, num_steps=100, eta=1.0),
  ):
    np.testing.assert_allclose(
      np.asarray(sample(jax.random.key(1), x_T)), np.broadcast_to(x0, x_T.shape), atol=1e-4
    )
  # Inpainting with a model that predicts zeros: the known pixels come back exactly.
  mask = jnp.array([1.0, 0.0, 0.0, 1.0]).reshape(1, 2, 2, 1)
  out = diffusion.make_inpainter(s, lambda x, t: jnp.zeros_like(x))(
    jax.random.key(3), jnp.broadcast_to(x0, x_T.shape), jnp.broadcast_to(mask, x_T.shape)
  )
  np.testing.assert_array_equal(np.asarray(out * mask), np.asarray(x0 * mask * jnp.ones_like(out)))


def test_bound_of_the_exact_model_of_a_point_mass_is_prior_plus_decoder():
  # With ε exact, x̂_0 = x_0, so every L_{t-1} (t ≥ 2) vanishes under Σ = β̃_t; what is
  # left is L_T and the decoder N(x_0, β̃_2) integrated over x_0's bin.
  s = diffusion.make_schedule("linear", T)
  bins = jnp.array([0, 40, 128, 255, 7, 200]).reshape(1, 2, 3, 1)
  x0 = likelihood.from_bins(bins)
  terms = diffusion.vlb_terms(
    s, _point_mass_eps(s, x0), x0, jax.random.key(0), var_type="fixed_small", clip_x0=True, chunk=10
  )
  assert terms.shape == (T, 1)
  np.testing.assert_allclose(np.asarray(terms[1:]), 0.0, atol=1e-3)
  sd = math.sqrt(float(s.posterior_variance[1]))
  xs = np.asarray(x0).ravel()
  cdf = lambda v: stats.norm.cdf(v, loc=xs, scale=sd)
  p = np.where(
    xs < -0.99,
    cdf(xs + 1 / 255),
    np.where(xs > 0.99, 1 - cdf(xs - 1 / 255), cdf(xs + 1 / 255) - cdf(xs - 1 / 255)),
  )
  np.testing.assert_allclose(float(terms[0, 0]), -np.sum(np.log(p)), rtol=1e-4)
  ac = float(np.prod(1 - np.asarray(s.betas, np.float64)))
  prior = 0.5 * np.sum(ac * xs**2 + (1 - ac) - 1 - math.log(1 - ac))
  np.testing.assert_allclose(float(diffusion.prior_kl(s, x0)[0]), prior, rtol=1e-4)
  # A wrong model pays in the L_{t-1} terms.
  wrong = diffusion.vlb_terms(
    s,
    lambda x, t: jnp.zeros_like(x),
    x0,
    jax.random.key(0),
    var_type="fixed_small",
    clip_x0=True,
    chunk=10,
  )
  assert float(jnp.sum(wrong[1:])) > 1.0


def test_strided_bound_terms_are_the_full_ones_subsampled():
  s = diffusion.make_schedule("linear", T)
  x0 = jnp.zeros((2, 2, 2, 1))
  full = diffusion.vlb_terms(
    s, _some_eps, x0, jax.random.key(0), var_type="fixed_large", clip_x0=True, chunk=5
  )
  sub = diffusion.vlb_terms(
    s, _some_eps, x0, jax.random.key(0), var_type="fixed_large", clip_x0=True, chunk=5, stride=5
  )
  np.testing.assert_allclose(np.asarray(sub), np.asarray(full[::5]), rtol=1e-5)


def test_cosine_schedule_is_monotone_and_clipped():
  b = diffusion.betas_for("cosine", 1000)
  assert b.max() <= 0.999 and np.all(np.diff(np.cumprod(1 - b)) < 0)
  with pytest.raises(ValueError):
    diffusion.make_schedule("quadratic", 10)


def test_discretized_gaussian_sums_to_one_over_the_bins():
  x = likelihood.from_bins(jnp.arange(256)).reshape(256, 1)
  for mean, logvar in [
    (0.0, math.log(0.1)),
    (0.98, math.log(1e-4)),
    (-0.5, 2.0),
    (0.3, math.log(1e-7)),
    (1.7, 0.0),
  ]:
    logp = losses.discretized_gaussian_log_prob(x, jnp.full_like(x, mean), jnp.full_like(x, logvar))
    np.testing.assert_allclose(float(jnp.sum(jnp.exp(logp))), 1.0, rtol=1e-5)
  # An interior bin against scipy, including far in the right tail.
  for xv, mean, sd in [(0.2, 0.1, 0.05), (0.6, -0.9, 0.3)]:
    xb = float(likelihood.from_bins(likelihood.to_bins(jnp.array(xv))))
    want = math.log(stats.norm.sf(xb - 1 / 255, mean, sd) - stats.norm.sf(xb + 1 / 255, mean, sd))
    got = losses.discretized_gaussian_log_prob(
      jnp.array([[xb]]), jnp.array([[mean]]), jnp.array([[2 * math.log(sd)]])
    )
    np.testing.assert_allclose(float(got[0]), want, rtol=1e-4)
