"""The Parzen-window estimator against a direct computation with scipy."""
import numpy as np
from scipy import special
from scipy import stats

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
    cov = s ** 2 * np.eye(6)
    mvn = np.array([[stats.multivariate_normal.logpdf(xi, gi, cov)
                     for gi in samples.reshape(7, -1)] for xi in x.reshape(5, -1)])
    np.testing.assert_allclose(row, special.logsumexp(mvn, 1) - np.log(7), rtol=1e-5, atol=1e-3)


def test_far_away_points_do_not_underflow():
  # Every kernel is ~1e-200000 at x: a naive mean of densities would be log(0) = -inf.
  x = np.full((2, 4), 30.0)
  samples = np.zeros((3, 4))
  got = parzen.parzen_log_likelihood(x, samples, [0.1])[0]
  expected = -(4 * 30.0 ** 2) / (2 * 0.01) - 2 * np.log(2 * np.pi * 0.01)
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
