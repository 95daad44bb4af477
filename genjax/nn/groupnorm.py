"""GroupNorm that XLA:CPU trains faster: statistics from per-channel sums; same function.

flax.linen.GroupNorm reshapes x [B, ..., C] to [B, ..., G, C/G] and reduces over every
axis but the batch and the group: a reduction whose kept axis (G) lies between reduced
ones. XLA:CPU (jax 0.10.2) runs it slowly: profiled on 2 CPU cores
(benchmarks/conv_vs_torch.py --profile=ddpm28), the 28x28 DDPM U-Net's training step
spent 25 ms of its ~300 ms in those [B, G] reductions.

Here the reductions run over the spatial axes only, to per-channel sums of x and x^2
[B, C] (the middle axis of [B, HW, C], which XLA vectorises along C); the groups' means
and variances come from those few numbers, and the normalisation is one per-channel
scale and shift, x * a + b. The same function as flax's (biased variance
E[x^2] - E[x]^2 clamped at 0, as flax's default `use_fast_variance`; float32 statistics
for any compute dtype); results differ by float rounding only (the sums run in another
order): tests/test_groupnorm.py checks values and gradients against flax's.

Measured side by side on 2 CPU cores (benchmarks/conv_vs_torch.py against the commit
before, 2026-12-05): the DDPM training step at 28x28, batch 32, took 0.94x to 0.97x the
time in four runs of 9 to 15 rounds (0.283 -> 0.267 s in one; a fifth, of 5 rounds
inside the five-model table, gave 1.12x), and at 8x8 0.91x in both of two runs. A
jitted forward pass of the bare U-Net, timed alone, took 0.83x the time at either size,
but the DDIM and ancestral samplers (one lax.scan each, benchmarks/diffusion_sampling.py)
moved within noise.

`GroupNorm` has flax's parameter names, shapes and initialisers and its class name (so
its auto-name is "GroupNorm_0" too): checkpoints move freely between the two.
"""

from __future__ import annotations

from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp

Array = jax.Array


def group_norm(x: Array, scale: Array | None, bias: Array | None, groups: int, eps: float):
  """Normalises x [B, ..., C] over each example's (spatial, channel-group) blocks; scale
  and bias [C] (or None). Statistics in float32; returns float32. Its gradient is jax's
  own: a hand-written backward pass (two per-channel sums of dy and dy*x, then one
  elementwise pass) measured no faster in the U-Net's step."""
  b, c = x.shape[0], x.shape[-1]
  if c % groups:
    raise ValueError(f"GroupNorm: {groups} groups do not divide {c} channels.")
  xf = x.astype(jnp.float32).reshape(b, -1, c)
  n = xf.shape[1] * (c // groups)  # elements per (example, group)
  per_group = lambda v: v.reshape(b, groups, -1).sum(-1)  # [B, C] -> [B, G]
  per_channel = lambda v: jnp.repeat(v, c // groups, axis=-1)  # [B, G] -> [B, C]
  mean = per_group(jnp.sum(xf, axis=1)) / n
  var = jnp.maximum(per_group(jnp.sum(jnp.square(xf), axis=1)) / n - jnp.square(mean), 0.0)
  a = per_channel(jax.lax.rsqrt(var + eps))  # y = x * a + shift, per (example, channel)
  if scale is not None:
    a = a * scale.astype(jnp.float32)
  shift = -per_channel(mean) * a
  if bias is not None:
    shift = shift + bias.astype(jnp.float32)
  return (xf * a[:, None] + shift[:, None]).reshape(x.shape)


class GroupNorm(nn.Module):
  """flax.linen.GroupNorm's `num_groups` form over all non-batch axes (its default)."""

  num_groups: int = 32
  epsilon: float = 1e-6
  dtype: Any = None
  param_dtype: Any = jnp.float32
  use_bias: bool = True
  use_scale: bool = True
  bias_init: Any = nn.initializers.zeros
  scale_init: Any = nn.initializers.ones

  @nn.compact
  def __call__(self, x: Array) -> Array:
    c = x.shape[-1]
    scale = self.param("scale", self.scale_init, (c,), self.param_dtype) if self.use_scale else None
    bias = self.param("bias", self.bias_init, (c,), self.param_dtype) if self.use_bias else None
    dtype = self.dtype or jnp.result_type(x, *(p for p in (scale, bias) if p is not None))
    return group_norm(x, scale, bias, self.num_groups, self.epsilon).astype(dtype)
