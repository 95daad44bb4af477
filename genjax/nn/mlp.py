"""Fully connected stacks."""

from typing import Sequence

import flax.linen as nn
import jax.numpy as jnp

ACTIVATIONS = {
  "relu": nn.relu,
  "tanh": jnp.tanh,
  "gelu": nn.gelu,
  "silu": nn.silu,
  "leaky_relu": nn.leaky_relu,
  "softplus": nn.softplus,
}


class MLP(nn.Module):
  """Dense layers with an activation between them; the last layer is linear."""

  features: Sequence[int]
  activation: str = "relu"
  dtype: jnp.dtype = jnp.float32

  @nn.compact
  def __call__(self, x):
    act = ACTIVATIONS[self.activation]
    for i, f in enumerate(self.features):
      x = nn.Dense(f, dtype=self.dtype, name=f"dense_{i}")(x)
      if i < len(self.features) - 1:
        x = act(x)
    return x
