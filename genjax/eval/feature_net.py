"""A trained classifier as the feature space of sample-quality metrics.

Loads the classifier a workdir holds (its config.json and newest checkpoint); the
metrics computed on its features are in genjax/eval/evaluators.py (SampleQuality).
"""

import dataclasses
import os
from typing import Callable

import jax
import jax.numpy as jnp
import numpy as np

from genjax import data as gdata
from genjax.errors import CheckpointError
from genjax.nn.classifier import Classifier
from genjax.train.checkpoint import load_trained
from genjax.train.writers import read_metrics


@dataclasses.dataclass(frozen=True)
class FeatureNet:
  name: str  # "digits": metrics are called eval/fd_digits
  input_shape: tuple  # (H, W, C) the classifier was trained on
  accuracy: float  # its test accuracy, from its own workdir
  apply: Callable  # images in [-1, 1] at input_shape -> (logits, features)

  def _fit(self, images):
    images = jnp.asarray(images, jnp.float32)
    h, w, c = self.input_shape
    if images.shape[-1] != c:  # colour samples into a grey-level classifier
      images = jnp.mean(images, axis=-1, keepdims=True)
    if images.shape[1:3] != (h, w):
      images = jax.image.resize(images, (images.shape[0], h, w, c), "bilinear")
    return images

  def outputs(self, images, batch: int = 500):
    """(class probabilities, features) of images in [-1, 1] of any size."""
    probs, feats = [], []
    for i in range(0, len(images), batch):
      logits, f = self.apply(self._fit(images[i : i + batch]))
      probs.append(np.asarray(jax.nn.softmax(logits)))
      feats.append(np.asarray(f, np.float64))
    return np.concatenate(probs), np.concatenate(feats)

  def features(self, images) -> np.ndarray:
    return self.outputs(images)[1]


def load_feature_net(workdir: str, name: str) -> FeatureNet:
  """The classifier trained in `workdir` (by experiments/configs/classifier_*.py)."""
  try:
    state, cfg = load_trained(workdir, "feature network")
  except CheckpointError as e:
    if not os.path.isdir(workdir):
      raise
    raise CheckpointError(f"{e} Delete that directory and it will be retrained.") from e
  m = cfg["model"]
  model = Classifier(
    num_classes=m["num_classes"], channels=tuple(m["channels"]), feature_dim=m["feature_dim"]
  )
  params = state["ema_params"]
  apply = jax.jit(lambda x: model.apply({"params": params}, x))
  accs = [r["eval/accuracy"] for r in read_metrics(workdir) if "eval/accuracy" in r]
  shape = gdata.image_shape(_data_cfg(cfg["data"]))
  return FeatureNet(
    name=name,
    input_shape=tuple(shape),
    accuracy=float(accs[-1]) if accs else float("nan"),
    apply=apply,
  )


def _data_cfg(d: dict):
  import ml_collections  # pylint: disable=import-outside-toplevel

  return ml_collections.ConfigDict(d)
