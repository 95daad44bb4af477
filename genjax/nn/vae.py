"""The VAE's networks: a Gaussian encoder q(z|x) and a decoder p(x|z) (architecture only;
the ELBO lives in experiments/vae.py)."""

from typing import Sequence

import flax.linen as nn
import jax.numpy as jnp

from genjax.nn.conv import ConvDecoder, ConvEncoder
from genjax.nn.mlp import ACTIVATIONS, MLP


class VAE(nn.Module):
  """encode(x) -> (mean, logvar) of q(z|x); decode(z) -> decoder parameters per pixel.

  The decoder emits `out_params` values per image channel, stacked on the channel axis:
  1 (Bernoulli logits), 2 (Gaussian mean and log-variance) or the K parameters of an
  8-bit sub-pixel distribution (genjax/subpixel.py).
  """

  image_shape: Sequence[int]
  latent_dim: int = 2
  backbone: str = "mlp"  # "mlp" (the paper's) or "conv"
  hidden: Sequence[int] = (500,)  # MLP widths, encoder order; the decoder mirrors them
  channels: Sequence[int] = (32, 64)  # conv widths, encoder order; the decoder mirrors them
  activation: str = "tanh"
  out_params: int = 1
  dtype: jnp.dtype = jnp.float32

  def setup(self):
    h, w, c = self.image_shape
    out_c = c * self.out_params
    if self.backbone == "mlp":
      self.enc_trunk = MLP(tuple(self.hidden), self.activation, self.dtype)
      self.dec_net = MLP(
        tuple(reversed(self.hidden)) + (h * w * out_c,), self.activation, self.dtype
      )
    elif self.backbone == "conv":
      self.enc_trunk = ConvEncoder(tuple(self.channels), self.activation, self.dtype)
      self.dec_net = ConvDecoder(
        (h, w, out_c), tuple(reversed(self.channels)), self.activation, self.dtype
      )
    else:
      raise ValueError(f"unknown VAE backbone {self.backbone!r}")
    # Both heads are linear: the mean and log-variance of q(z|x) are unconstrained.
    self.enc_head = nn.Dense(2 * self.latent_dim, dtype=self.dtype)

  def encode(self, x):
    feats = self.enc_trunk(x.reshape(x.shape[0], -1) if self.backbone == "mlp" else x)
    if self.backbone == "mlp":
      feats = ACTIVATIONS[self.activation](feats)
    mean, logvar = jnp.split(self.enc_head(feats).astype(jnp.float32), 2, axis=-1)
    return mean, logvar

  def decode(self, z):
    h, w, c = self.image_shape
    out = self.dec_net(z.astype(self.dtype)).astype(jnp.float32)
    return out.reshape(z.shape[0], h, w, c * self.out_params)

  def __call__(self, x, z):
    return self.encode(x), self.decode(z)
