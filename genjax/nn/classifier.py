"""A small CNN classifier whose penultimate layer is the feature space for Fréchet
distances between real and generated images."""

import flax.linen as nn
import jax.numpy as jnp

from genjax.nn.dropout import Dropout


class Classifier(nn.Module):
  num_classes: int = 10
  channels: tuple = (16, 32)
  feature_dim: int = 64
  dtype: jnp.dtype = jnp.float32

  @nn.compact
  def __call__(self, x, *, train: bool = False):
    """Returns (logits, features); `train` enables dropout (needs a 'dropout' rng)."""
    for i, c in enumerate(self.channels):
      x = nn.relu(nn.Conv(c, (3, 3), dtype=self.dtype, name=f"conv_{i}")(x))
      x = nn.max_pool(x, (2, 2), strides=(2, 2), padding="SAME")
    x = x.reshape(x.shape[0], -1)
    feats = nn.relu(nn.Dense(self.feature_dim, dtype=self.dtype, name="features")(x))
    h = Dropout(0.3, deterministic=not train)(feats)
    logits = nn.Dense(self.num_classes, dtype=self.dtype, name="logits")(h)
    return logits.astype(jnp.float32), feats.astype(jnp.float32)
