"""Dropout with flax's masks, drawn in one fused pass: the same function, bit for bit.

flax.linen.Dropout draws its mask with jax.random.bernoulli, whose threefry hash jax 0.10
lowers on the CPU as a loop over its five groups of four rounds (on GPU and TPU it is
unrolled). XLA:CPU runs that loop as separate kernels per iteration, writing and reading
the hash's two uint32 halves, each the size of the mask, every time. Dropout was 7-8 % of
the 16x16 DDPM U-Net's training step (benchmarks/step_variants.py, variant nodrop: 0.916x
and 0.928x the time, 9 rounds each, 2 CPU cores).

Here the same hash is written out in jax.numpy, its 20 rounds unrolled, so XLA fuses the
counters, the hash, the comparison and the select into the kernel that uses the mask. The
bits are jax's: the partitionable threefry of jax.random.bits (a 64-bit counter per
element, split into two uint32 words, hashed, the two outputs xored), and the mask is
bernoulli's `uniform < keep` as one integer comparison of the 23 bits uniform uses.
tests/test_dropout.py checks the outputs and gradients against flax's, bit for bit.
Measured side by side on 2 CPU cores against flax's Dropout (benchmarks/conv_vs_torch.py
--baseline_repo, 9 rounds, paired per-round ratios, 2026-12-06), the DDPM U-Net's step
took 0.97x the time at 8x8, 0.96x at 16x16 and 0.98x at 28x28, and compiled in 6-13 %
less time (four step_variants runs). What is left of dropout's time is mostly the hash's
20 rounds per element: alone, a [64, 16, 16, 32] dropout forward and backward took 1.33 ms
against flax's 1.52 and 0.50 without dropout, and a 6-operation integer hash in its place
(not jax's bits) 0.39.

Where that equality cannot hold (a key of another PRNG implementation, or jax's
`jax_threefry_partitionable` turned off), the mask comes from jax.random.bernoulli, as
flax's does. Unlike flax's module, `rng` is not an argument and `broadcast_dims` is not
supported: nothing in genjax uses them.
"""

from __future__ import annotations

import math

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

_ROTATIONS = ((13, 15, 26, 6), (17, 29, 16, 24))
_PARITY = np.uint32(0x1BD11BDA)  # Threefry's key-schedule constant
_MANTISSA = 23  # float32's: jax.random.uniform keeps the top 23 bits of each draw


def _rotl(x, r: int):
  return (x << np.uint32(r)) | (x >> np.uint32(32 - r))


def threefry_2x32(k0, k1, x0, x1):
  """Threefry-2x32 with 20 rounds (Salmon et al. 2011), jax's counter-mode hash, unrolled."""
  ks = (k0, k1, k0 ^ k1 ^ _PARITY)
  x0, x1 = x0 + ks[0], x1 + ks[1]
  for group in range(5):
    for r in _ROTATIONS[group % 2]:
      x0 = x0 + x1
      x1 = _rotl(x1, r) ^ x0
    x0 = x0 + ks[(group + 1) % 3]
    x1 = x1 + ks[(group + 2) % 3] + np.uint32(group + 1)
  return x0, x1


def random_bits(key, shape) -> jax.Array:
  """jax.random.bits(key, shape) for a threefry key, with jax_threefry_partitionable on."""
  if math.prod(shape) >= 2**32:
    raise ValueError(f"random_bits draws fewer than 2**32 values, not {math.prod(shape)}.")
  k0, k1 = jax.random.key_data(key)
  index = jax.lax.iota(jnp.uint32, math.prod(shape)).reshape(shape)
  # The counter's high word is 0 below 2**32 values.
  b0, b1 = threefry_2x32(k0, k1, jnp.zeros_like(index), index)
  return b0 ^ b1


def _draws_like_jax(key) -> bool:
  return jax.config.jax_threefry_partitionable and str(jax.random.key_impl(key)) == "threefry2x32"


def keep_mask(key, keep_prob: float, shape) -> jax.Array:
  """jax.random.bernoulli(key, keep_prob, shape): True where an element is kept."""
  if not jax.dtypes.issubdtype(key.dtype, jax.dtypes.prng_key):
    key = jax.random.wrap_key_data(key)
  if not _draws_like_jax(key):
    return jax.random.bernoulli(key, keep_prob, shape)
  # uniform = m / 2**23 with m the top 23 bits, exact in float32, so uniform < p for
  # the float32 p exactly when m < ceil(p * 2**23).
  threshold = math.ceil(float(np.float32(keep_prob)) * 2**_MANTISSA)
  return (random_bits(key, tuple(shape)) >> np.uint32(32 - _MANTISSA)) < np.uint32(threshold)


class Dropout(nn.Module):
  """flax.linen.Dropout's function and auto-name, its mask drawn as `keep_mask` does."""

  rate: float
  deterministic: bool | None = None
  rng_collection: str = "dropout"

  @nn.compact
  def __call__(self, inputs, deterministic: bool | None = None):
    deterministic = nn.merge_param("deterministic", self.deterministic, deterministic)
    if self.rate == 0.0 or deterministic:
      return inputs
    if self.rate == 1.0:  # flax's: no division by 0, so no NaN gradients
      return jnp.zeros_like(inputs)
    keep_prob = 1.0 - self.rate
    mask = keep_mask(self.make_rng(self.rng_collection), keep_prob, inputs.shape)
    return jax.lax.select(mask, inputs / keep_prob, jnp.zeros_like(inputs))
