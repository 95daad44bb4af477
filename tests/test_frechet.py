"""Fréchet distance: exact values, singular covariances, symmetry, translation invariance."""

import numpy as np
import pytest
import scipy.linalg

from genjax.eval.frechet import frechet_distance, frechet_distance_from_features, gaussian_stats


def _features(seed, n, d, scale=1.0, shift=0.0):
  rng = np.random.default_rng(seed)
  mix = rng.normal(size=(d, d)) / np.sqrt(d)
  return (rng.normal(size=(n, d)) @ mix) * scale + shift


def _reference_from_features(f1, f2):
  """Independent formula: with s1 = A^T A / (n1 - 1), s2 = B^T B / (n2 - 1) (A, B centred),
  tr (s1^1/2 s2 s1^1/2)^1/2 is the nuclear norm of A B^T / sqrt((n1 - 1)(n2 - 1)),
  i.e. a sum of singular values of a small matrix, with no matrix square root at all."""
  a, b = f1 - f1.mean(0), f2 - f2.mean(0)
  n1, n2 = len(f1), len(f2)
  cross = np.linalg.svd(a @ b.T, compute_uv=False).sum() / np.sqrt((n1 - 1) * (n2 - 1))
  diff = f1.mean(0) - f2.mean(0)
  return diff @ diff + (a * a).sum() / (n1 - 1) + (b * b).sum() / (n2 - 1) - 2 * cross


def test_stats_are_float64():
  mu, sigma = gaussian_stats(_features(0, 50, 4).astype(np.float32))
  assert mu.dtype == sigma.dtype == np.float64 and mu.shape == (4,) and sigma.shape == (4, 4)
  assert gaussian_stats(np.arange(5.0)[:, None])[1].shape == (1, 1)
  with pytest.raises(ValueError):
    gaussian_stats(np.ones((1, 3)))


@pytest.mark.parametrize("n,d", [(200, 8), (10, 32)])  # full rank; rank-deficient
def test_identical_sets_give_zero(n, d):
  f = _features(1, n, d)
  assert abs(frechet_distance_from_features(f, f)) < 1e-6


def test_diagonal_gaussians_analytic():
  rng = np.random.default_rng(2)
  mu1, mu2 = rng.normal(size=16), rng.normal(size=16)
  a, b = rng.uniform(0.1, 3.0, 16), rng.uniform(0.1, 3.0, 16)
  a[:3] = 0.0  # singular, too
  expected = np.sum((mu1 - mu2) ** 2) + np.sum((np.sqrt(a) - np.sqrt(b)) ** 2)
  np.testing.assert_allclose(
    frechet_distance(mu1, np.diag(a), mu2, np.diag(b)), expected, rtol=1e-10, atol=1e-12
  )


def test_well_conditioned_matches_scipy_sqrtm():
  f1, f2 = _features(3, 400, 6), _features(4, 300, 6, scale=1.5, shift=0.3)
  mu1, s1 = gaussian_stats(f1)
  mu2, s2 = gaussian_stats(f2)
  covmean = scipy.linalg.sqrtm(s1 @ s2).real
  expected = np.sum((mu1 - mu2) ** 2) + np.trace(s1 + s2 - 2 * covmean)
  np.testing.assert_allclose(frechet_distance(mu1, s1, mu2, s2), expected, rtol=1e-9)
  np.testing.assert_allclose(
    frechet_distance_from_features(f1, f2), _reference_from_features(f1, f2), rtol=1e-9
  )


@pytest.mark.parametrize("n1,n2,d", [(10, 12, 64), (15, 40, 20)])
def test_singular_covariances_finite_and_exact(n1, n2, d):
  f1, f2 = _features(5, n1, d), _features(6, n2, d, scale=0.7, shift=0.1)
  assert np.linalg.matrix_rank(gaussian_stats(f1)[1]) < d
  fd = frechet_distance_from_features(f1, f2)
  assert np.isfinite(fd) and fd >= 0.0
  np.testing.assert_allclose(fd, _reference_from_features(f1, f2), rtol=1e-10)


@pytest.mark.parametrize("n,d", [(300, 10), (12, 40)])
def test_symmetric(n, d):
  f1, f2 = _features(7, n, d), _features(8, n + 3, d, scale=2.0, shift=-0.5)
  np.testing.assert_allclose(
    frechet_distance_from_features(f1, f2), frechet_distance_from_features(f2, f1), rtol=1e-9
  )


def test_translation_invariant():
  f1, f2 = _features(9, 100, 12), _features(10, 80, 12, scale=1.3, shift=0.2)
  v = np.random.default_rng(11).normal(size=12) * 10.0
  np.testing.assert_allclose(
    frechet_distance_from_features(f1 + v, f2 + v),
    frechet_distance_from_features(f1, f2),
    rtol=1e-9,
  )
