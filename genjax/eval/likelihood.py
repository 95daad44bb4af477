"""Likelihood metrics every explicit-density family reports the same way.

Images live in [-1, 1] inside models; 8-bit data is the 256 bin centres 2k/255 − 1. A
per-example negative log-likelihood in nats becomes bits per dimension by dividing by
D·ln 2, D = H·W·C (the convention of PixelRNN, PixelCNN++ and DDPM's Table 2).
"""

import math

import jax
import jax.numpy as jnp

from genjax import losses

NUM_BINS = 256


def num_dims(image_shape) -> int:
  return int(math.prod(image_shape))


def bits_per_dim(nll_nats, image_shape):
  """nats per image -> bits per sub-pixel."""
  return losses.nats_to_bits_per_dim(nll_nats, num_dims(image_shape))


def nll_metrics(nll_nats, image_shape, prefix: str = "eval") -> dict:
  """{prefix/nll: nats per image, prefix/bits_per_dim}: the names every family logs."""
  return {f"{prefix}/nll": nll_nats, f"{prefix}/bits_per_dim": bits_per_dim(nll_nats, image_shape)}


def to_bins(x):
  """[-1, 1] images -> integer bins 0..255 (the inverse of the pipeline's scaling)."""
  return jnp.clip(jnp.round((x + 1.0) * 0.5 * (NUM_BINS - 1)), 0, NUM_BINS - 1).astype(jnp.int32)


def from_bins(k):
  """Integer bins 0..255 -> their centres in [-1, 1]."""
  return k.astype(jnp.float32) * (2.0 / (NUM_BINS - 1)) - 1.0


def binarization_entropy(intensity):
  """Σ_i H(Bernoulli(p_i)) in nats per image, p = intensity [B, ...] in [0, 1].

  Dynamically binarised data draws pixel i ~ Bernoulli(p_i) from a grey image, so no
  model can score below E[H(X | grey image)] on average: this is that floor for NLLs
  reported in nats per image on such data."""
  p = jnp.clip(jnp.asarray(intensity, jnp.float32), 0.0, 1.0)
  h = -(jax.scipy.special.xlogy(p, p) + jax.scipy.special.xlog1py(1.0 - p, -p))
  return jnp.sum(h.reshape(h.shape[0], -1), axis=-1)
