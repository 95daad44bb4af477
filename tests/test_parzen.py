"""The Parzen-window estimator against a direct computation with scipy."""

import jax
from jax.extend import core as jax_core
import jax.numpy as jnp
import numpy as np
from scipy import special, stats

from genjax.eval import parzen


def _direct(x, samples, sigma):
  """log (1/N) sum_i N(x; g_i, sigma^2 I), an isotropic density as a product of 1-D ones."""
  logs = stats.norm.logpdf(x[:, None, :], samples[None], sigma).sum(-1)
  return special.logsumexp(logs, axis=1) - np.log(len(samples))


def test_matches_scipy_on_a_tiny_case():
  rng = np.random.default_rng(0)
  x = rng.uniform(size=(5, 2, 3, 1))
  samples = rng.uniform(size=(7, 2, 3, 1))
  sigmas = [0.1, 0.35]
  # chunk 3 does not divide 7 samples and x_chunk 2 not 5 images: padding is exercised.
  got = parzen.parzen_log_likelihood(x, samples, sigmas, chunk=3, x_chunk=2)
  assert got.shape == (2, 5)
  for row, s in zip(got, sigmas):
    cov = s**2 * np.eye(6)
    mvn = np.array(
      [
        [stats.multivariate_normal.logpdf(xi, gi, cov) for gi in samples.reshape(7, -1)]
        for xi in x.reshape(5, -1)
      ]
    )
    np.testing.assert_allclose(row, special.logsumexp(mvn, 1) - np.log(7), rtol=1e-5, atol=1e-3)


def _dot_precisions(jaxpr):
  """The precision of every dot_general in a jaxpr, nested ones (jit, scan) included."""
  found = []
  for eqn in jaxpr.eqns:
    if eqn.primitive.name == "dot_general":
      found.append(eqn.params["precision"])
    for param in eqn.params.values():
      for sub in param if isinstance(param, (tuple, list)) else (param,):
        if isinstance(sub, jax_core.ClosedJaxpr):
          found.extend(_dot_precisions(sub.jaxpr))
        elif isinstance(sub, jax_core.Jaxpr):
          found.extend(_dot_precisions(sub))
  return found


def test_distances_ask_for_full_precision():
  # On CPU default and full precision agree, so look at what is asked of the backend:
  # TF32 or bf16 passes in x.g would move the log-likelihood by nats on GPU and TPU.
  x, g = jnp.zeros((4, 6)), jnp.zeros((5, 6))
  closed = jax.make_jaxpr(parzen._log_kernel_sums_jit, static_argnums=3)(x, g, jnp.ones((2,)), 5)
  precisions = _dot_precisions(closed.jaxpr)
  assert precisions
  highest = (jax.lax.Precision.HIGHEST, jax.lax.Precision.HIGHEST)
  assert all(p == highest for p in precisions), precisions


def test_matches_float64_numpy_on_mnist_sized_images():
  # 784 dims and a small sigma: an error of 1e-3 in a squared distance is 0.05 nats.
  rng = np.random.default_rng(2)
  x = rng.uniform(size=(30, 28, 28, 1))
  samples = np.clip(x[rng.integers(0, 30, 200)] + rng.normal(0, 0.1, (200, 28, 28, 1)), 0, 1)
  sigmas = [0.1, 0.2]
  got = parzen.parzen_log_likelihood(x, samples, sigmas, chunk=64, x_chunk=16)
  xf, gf = x.reshape(30, -1), samples.reshape(200, -1)
  d2 = np.sum((xf[:, None] - gf[None]) ** 2, -1)
  for row, s in zip(got, sigmas):
    want = (
      special.logsumexp(-d2 / (2 * s * s), 1) - np.log(200) - 0.5 * 784 * np.log(2 * np.pi * s * s)
    )
    np.testing.assert_allclose(row, want, rtol=0, atol=0.05)


def test_far_away_points_do_not_underflow():
  # Every kernel is ~1e-200000 at x: a naive mean of densities would be log(0) = -inf.
  x = np.full((2, 4), 30.0)
  samples = np.zeros((3, 4))
  got = parzen.parzen_log_likelihood(x, samples, [0.1])[0]
  expected = -(4 * 30.0**2) / (2 * 0.01) - 2 * np.log(2 * np.pi * 0.01)
  np.testing.assert_allclose(got, expected, rtol=1e-6)


def test_select_sigma_takes_the_best_validation_mean():
  rng = np.random.default_rng(1)
  samples = rng.normal(0.0, 0.3, size=(400, 3))
  valid = rng.normal(0.0, 0.3, size=(50, 3))
  sigmas = [0.01, 0.15, 2.0]
  sigma, means = parzen.select_sigma(valid, samples, sigmas)
  direct = [np.mean(_direct(valid, samples, s)) for s in sigmas]
  np.testing.assert_allclose(means, direct, rtol=1e-4)
  # Too narrow a window overfits the samples, too wide a one blurs them.
  assert sigma == 0.15


def test_mean_and_stderr():
  v = np.array([1.0, 2.0, 4.0, 7.0])
  mean, se = parzen.mean_and_stderr(v)
  assert mean == 3.5
  np.testing.assert_allclose(se, stats.sem(v))
