"""Fréchet distance between Gaussians fitted to two sets of features, in float64."""
import numpy as np


def gaussian_stats(features) -> tuple[np.ndarray, np.ndarray]:
  f = np.asarray(features, np.float64)
  return f.mean(axis=0), np.cov(f, rowvar=False)


def _psd_sqrt(s):
  w, v = np.linalg.eigh((s + s.T) / 2)
  return (v * np.sqrt(np.clip(w, 0.0, None))) @ v.T


def frechet_distance(mu1, s1, mu2, s2) -> float:
  """|mu1 - mu2|^2 + tr(s1 + s2 - 2 (s1^1/2 s2 s1^1/2)^1/2).

  The trace of the cross term is taken from the eigenvalues of the symmetric PSD matrix
  s1^1/2 s2 s1^1/2 rather than from scipy.linalg.sqrtm(s1 @ s2): that product is not
  symmetric, and on singular covariances (fewer samples than features) sqrtm returns
  complex or NaN values, where this stays real and exact.
  """
  r1 = _psd_sqrt(np.asarray(s1, np.float64))
  m = r1 @ np.asarray(s2, np.float64) @ r1
  cross = np.sum(np.sqrt(np.clip(np.linalg.eigvalsh((m + m.T) / 2), 0.0, None)))
  diff = np.asarray(mu1, np.float64) - np.asarray(mu2, np.float64)
  value = diff @ diff + np.trace(s1) + np.trace(s2) - 2.0 * cross
  return float(max(value, 0.0))


def frechet_distance_from_features(f1, f2) -> float:
  return frechet_distance(*gaussian_stats(f1), *gaussian_stats(f2))
