"""Linear probe: how much a frozen representation tells about the labels.

A multinomial logistic regression on standardised features, fitted on one split and
scored on another (the protocol of MAE's Table 3 and the DAE paper's SVM tests, at the
digits' scale). scikit-learn's L-BFGS solver is exact and well kept; ours would not be
better.
"""

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler


def linear_probe_accuracy(
  train_features, train_labels, test_features, test_labels, *, l2: float = 1.0, max_iter: int = 2000
) -> float:
  """Test accuracy of a logistic regression fitted to (train_features, train_labels)."""
  train_features = np.asarray(train_features, np.float64).reshape(len(train_labels), -1)
  test_features = np.asarray(test_features, np.float64).reshape(len(test_labels), -1)
  clf = make_pipeline(StandardScaler(), LogisticRegression(C=1.0 / l2, max_iter=max_iter))
  clf.fit(train_features, np.asarray(train_labels))
  return float(np.mean(clf.predict(test_features) == np.asarray(test_labels)))
