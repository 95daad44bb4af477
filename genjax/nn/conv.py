"""Convolutional trunks: a stride-2 encoder and the matching upsampling decoder."""

from typing import Sequence

import flax.linen as nn
import jax.numpy as jnp

from genjax.nn.fastconv import Conv
from genjax.nn.mlp import ACTIVATIONS
from genjax.nn.upsample import ConvTransposeUp


class ConvEncoder(nn.Module):
  """Image -> flat features: stride-2 4x4 convolutions halving the size each layer."""

  channels: Sequence[int] = (32, 64)
  activation: str = "relu"
  dtype: jnp.dtype = jnp.float32

  @nn.compact
  def __call__(self, x):
    act = ACTIVATIONS[self.activation]
    for i, c in enumerate(self.channels):
      x = act(
        nn.Conv(c, (4, 4), strides=(2, 2), padding="SAME", dtype=self.dtype, name=f"conv_{i}")(x)
      )
    return x.reshape(x.shape[0], -1)


class ConvDecoder(nn.Module):
  """Flat code -> image of `out_shape`: a dense layer to a small map, then transposed
  convolutions doubling the size each layer (computed by the exact fast form)."""

  out_shape: Sequence[int]  # (H, W, C) of the output
  channels: Sequence[int] = (64, 32)  # from the smallest map up
  activation: str = "relu"
  dtype: jnp.dtype = jnp.float32

  @nn.compact
  def __call__(self, z):
    act = ACTIVATIONS[self.activation]
    h, w, c = self.out_shape
    n_up = len(self.channels)
    if h % 2**n_up or w % 2**n_up:
      raise ValueError(f"decoder output {h}x{w} is not divisible by 2**{n_up}")
    x = nn.Dense((h >> n_up) * (w >> n_up) * self.channels[0], dtype=self.dtype, name="project")(z)
    x = act(x).reshape(z.shape[0], h >> n_up, w >> n_up, self.channels[0])
    for i, ch in enumerate(self.channels):
      x = act(
        ConvTransposeUp(
          ch, kernel_size=(4, 4), strides=(2, 2), padding="SAME", dtype=self.dtype, name=f"up_{i}"
        )(x)
      )
    return Conv(c, (3, 3), padding="SAME", dtype=self.dtype, name="out")(x)
