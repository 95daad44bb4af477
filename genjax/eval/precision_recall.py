"""Improved precision and recall of a sampler (Kynkäänniemi et al. 2019), in float64.

Each set of features is taken as a manifold: the union of balls around its points, each
ball reaching to the point's k-th nearest neighbour within the set (k = 3 in the paper).
Precision is the share of generated points inside the real manifold (are samples
realistic?); recall the share of real points inside the generated one (is the data
covered?). A Fréchet distance mixes the two; these keep them apart.
"""

import numpy as np


def _squared_distances(a, b) -> np.ndarray:
  a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
  d2 = np.sum(a * a, 1)[:, None] - 2.0 * a @ b.T + np.sum(b * b, 1)[None]
  return np.maximum(d2, 0.0)


def knn_radii(features, k: int = 3) -> np.ndarray:
  """Squared distance of each point to its k-th nearest other point of the same set."""
  features = np.asarray(features, np.float64)
  if not 0 < k < len(features):
    raise ValueError(f"k = {k} needs more than k points, got {len(features)}")
  d2 = _squared_distances(features, features)
  np.fill_diagonal(d2, np.inf)  # a point is not its own neighbour
  return np.partition(d2, k - 1, axis=1)[:, k - 1]


def coverage_of(points, manifold, k: int = 3) -> float:
  """Share of `points` inside the k-NN manifold of `manifold`."""
  radii = knn_radii(manifold, k)
  inside = _squared_distances(points, manifold) <= radii[None]
  return float(np.mean(np.any(inside, axis=1)))


def precision_recall(real, fake, k: int = 3) -> tuple[float, float]:
  """(precision, recall) of `fake` features against `real` ones, both (n, d)."""
  return coverage_of(fake, real, k), coverage_of(real, fake, k)
