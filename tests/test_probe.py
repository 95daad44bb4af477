"""The linear probe separates what is linearly separable and no more."""

import numpy as np

from genjax.eval.probe import linear_probe_accuracy


def test_probe_reads_labels_from_informative_features_and_not_from_noise():
  rng = np.random.default_rng(0)
  labels = rng.integers(0, 3, size=600)
  centres = np.array([[4.0, 0.0], [0.0, 4.0], [-4.0, -4.0]])
  feats = centres[labels] + rng.normal(size=(600, 2))
  assert linear_probe_accuracy(feats[:400], labels[:400], feats[400:], labels[400:]) > 0.97
  noise = rng.normal(size=(600, 2))
  assert linear_probe_accuracy(noise[:400], labels[:400], noise[400:], labels[400:]) < 0.5
