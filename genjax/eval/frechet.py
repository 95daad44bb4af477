"""Fréchet distance between Gaussians fitted to two sets of features, in float64.

FD = |mu1 - mu2|^2 + tr(s1 + s2 - 2 (s1^1/2 s2 s1^1/2)^1/2)  (Dowson & Landau 1982; FID when
the features come from an Inception net, here from any feature net).
"""

import numpy as np


def gaussian_stats(features) -> tuple[np.ndarray, np.ndarray]:
  """Mean (d,) and covariance (d, d) of `features` (n, d), rows = samples, in float64."""
  f = np.asarray(features, np.float64)
  if f.ndim != 2 or f.shape[0] < 2:
    raise ValueError(f"features must be (n >= 2, d), got shape {f.shape}")
  return f.mean(axis=0), np.atleast_2d(np.cov(f, rowvar=False))


def _psd_eigvals(w):
  """Eigenvalues of a PSD matrix with the rounding noise of its null space (|w| below
  d * eps * max|w|, as in numpy's matrix_rank) set to 0, so its sqrt adds nothing."""
  return np.where(w > w.size * np.finfo(w.dtype).eps * np.abs(w).max(initial=0.0), w, 0.0)


def _psd_sqrt(s):
  """Symmetric PSD square root by a symmetric eigendecomposition."""
  w, v = np.linalg.eigh((s + s.T) / 2)
  return (v * np.sqrt(_psd_eigvals(w))) @ v.T


def frechet_distance(mu1, s1, mu2, s2) -> float:
  """|mu1 - mu2|^2 + tr(s1 + s2 - 2 (s1^1/2 s2 s1^1/2)^1/2), computed in float64.

  The trace of the cross term is taken from the eigenvalues of the symmetric PSD matrix
  s1^1/2 s2 s1^1/2 rather than from scipy.linalg.sqrtm(s1 @ s2): that product is not
  symmetric, and on singular covariances (fewer samples than features) sqrtm returns
  complex or NaN values, where this stays real and exact.
  """
  mu1, mu2 = np.atleast_1d(np.asarray(mu1, np.float64)), np.atleast_1d(np.asarray(mu2, np.float64))
  s1, s2 = np.atleast_2d(np.asarray(s1, np.float64)), np.atleast_2d(np.asarray(s2, np.float64))
  d = mu1.shape[0]
  if mu2.shape != (d,) or s1.shape != (d, d) or s2.shape != (d, d):
    raise ValueError(f"shape mismatch: mu {mu1.shape}, {mu2.shape}; sigma {s1.shape}, {s2.shape}")
  r1 = _psd_sqrt(s1)
  m = r1 @ s2 @ r1
  cross = np.sum(np.sqrt(_psd_eigvals(np.linalg.eigvalsh((m + m.T) / 2))))
  diff = mu1 - mu2
  value = diff @ diff + np.trace(s1) + np.trace(s2) - 2.0 * cross
  return float(max(value, 0.0))  # rounding can leave a tiny negative for equal inputs


def frechet_distance_from_features(f1, f2) -> float:
  """Fréchet distance between Gaussians fitted to feature sets f1 (n1, d) and f2 (n2, d)."""
  return frechet_distance(*gaussian_stats(f1), *gaussian_stats(f2))
