"""A deterministic autoencoder: encoder -> code z -> decoder (architecture only; the
reconstruction, sparsity and denoising objectives live in experiments/autoencoder.py)."""

from typing import Sequence

import flax.linen as nn
import jax.numpy as jnp

from genjax.nn.conv import ConvDecoder, ConvEncoder
from genjax.nn.mlp import ACTIVATIONS, MLP

CODE_ACTIVATIONS = ("linear",) + tuple(ACTIVATIONS)
OUTPUT_ACTIVATIONS = ("tanh", "linear")


class Autoencoder(nn.Module):
  """encode(x) -> z [B, code_dim]; decode(z) -> image [B, H, W, C] in model space.

  The MLP backbone is hidden widths in encoder order, then the code layer; the decoder
  mirrors them (Hinton & Salakhutdinov 2006's 784-1000-500-250-30 is hidden=(1000, 500,
  250), code_dim=30). The conv backbone is ConvEncoder + a dense code layer and the
  ConvDecoder (sub-pixel transposed convolutions).
  """

  image_shape: Sequence[int]
  code_dim: int = 20
  backbone: str = "mlp"  # "mlp" or "conv"
  hidden: Sequence[int] = (500, 500)
  channels: Sequence[int] = (32, 64)
  activation: str = "relu"
  code_activation: str = "linear"  # Hinton 2006's code units are linear
  # tanh keeps reconstructions in the images' [-1, 1]; it is a rescaled logistic, the
  # output unit of the 2006 paper.
  output_activation: str = "tanh"
  dtype: jnp.dtype = jnp.float32

  def setup(self):
    h, w, c = self.image_shape
    if self.backbone == "mlp":
      self.enc_net = MLP(tuple(self.hidden) + (self.code_dim,), self.activation, self.dtype)
      self.dec_net = MLP(tuple(reversed(self.hidden)) + (h * w * c,), self.activation, self.dtype)
    elif self.backbone == "conv":
      self.enc_trunk = ConvEncoder(tuple(self.channels), self.activation, self.dtype)
      self.enc_head = nn.Dense(self.code_dim, dtype=self.dtype)
      self.dec_net = ConvDecoder(
        (h, w, c), tuple(reversed(self.channels)), self.activation, self.dtype
      )
    else:
      raise ValueError(f"unknown autoencoder backbone {self.backbone!r}")

  def encode(self, x):
    if self.backbone == "mlp":
      z = self.enc_net(x.reshape(x.shape[0], -1).astype(self.dtype))
    else:
      z = self.enc_head(self.enc_trunk(x.astype(self.dtype)))
    if self.code_activation != "linear":
      z = ACTIVATIONS[self.code_activation](z)
    return z.astype(jnp.float32)

  def decode(self, z):
    out = self.dec_net(z.astype(self.dtype)).astype(jnp.float32)
    out = out.reshape((z.shape[0],) + tuple(self.image_shape))
    return jnp.tanh(out) if self.output_activation == "tanh" else out

  def __call__(self, x):
    return self.decode(self.encode(x))
