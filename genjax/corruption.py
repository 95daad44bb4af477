"""Input corruptions of the denoising autoencoder (Vincent et al. 2008), as pure functions.

Images are in [-1, 1] with -1 as the background, so "masking" (the paper's destruction of
a random fraction of the inputs, setting them to 0 in [0, 1] units) sets pixels to -1.
"""

import jax
import jax.numpy as jnp

CORRUPTIONS = ("none", "gaussian", "masking")


def check(kind: str, level: float) -> None:
  """Raises ValueError with one sentence when (kind, level) is not a corruption."""
  if kind not in CORRUPTIONS:
    raise ValueError(f"corruption must be one of {CORRUPTIONS}, not {kind!r}")
  if kind == "masking" and not 0.0 <= level < 1.0:
    raise ValueError(f"a masking level is a fraction in [0, 1), not {level}")
  if kind == "gaussian" and level < 0.0:
    raise ValueError(f"a Gaussian noise level is a standard deviation >= 0, not {level}")


def gaussian(key, x, std: float):
  """x + std * eps, eps ~ N(0, I); not clipped, so the noise keeps exactly its std."""
  return x + std * jax.random.normal(key, x.shape, x.dtype)


def masking(key, x, fraction: float, background: float = -1.0):
  """Each value independently set to `background` with probability `fraction`."""
  drop = jax.random.bernoulli(key, fraction, x.shape)
  return jnp.where(drop, jnp.asarray(background, x.dtype), x)


def corrupt(key, x, kind: str, level: float, background: float = -1.0):
  """x corrupted by `kind` ("none", "gaussian" std = level, "masking" fraction = level)."""
  check(kind, level)
  if kind == "gaussian":
    return gaussian(key, x, level)
  if kind == "masking":
    return masking(key, x, level, background)
  return x
