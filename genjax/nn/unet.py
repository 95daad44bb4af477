"""The DDPM U-Net (Ho et al. 2020, Appendix B): a PixelCNN++-like backbone of residual
blocks with GroupNorm and a sinusoidal timestep embedding, self-attention at chosen
resolutions, dropout, nearest-neighbour ×2 + 3×3 conv upsampling. Architecture only.

Output layers of each residual branch, of attention and of the whole network start at
zero (the paper's code scales them by 1e-10), so every block starts as the identity.
"""

import math
from typing import Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp

from genjax.nn.dropout import Dropout
from genjax.nn.fastconv import Conv
from genjax.nn.groupnorm import GroupNorm
from genjax.nn.upsample import nearest_upsampled

_init = nn.initializers.variance_scaling(1.0, "fan_avg", "uniform")  # Ho et al.'s default
_zeros = nn.initializers.zeros


def timestep_embedding(t, dim: int):
  """The Transformer's sinusoidal embedding of integer timesteps t [B] -> [B, dim]."""
  half = dim // 2
  freqs = jnp.exp(-math.log(10000.0) * jnp.arange(half, dtype=jnp.float32) / (half - 1))
  args = t.astype(jnp.float32)[:, None] * freqs[None]
  emb = jnp.concatenate([jnp.sin(args), jnp.cos(args)], axis=-1)
  return jnp.pad(emb, ((0, 0), (0, dim % 2)))


class ResBlock(nn.Module):
  out_ch: int
  dropout: float
  groups: int
  dtype: jnp.dtype = jnp.float32

  @nn.compact
  def __call__(self, x, temb, train: bool):
    conv = lambda ch, k, init=_init: Conv(ch, (k, k), dtype=self.dtype, kernel_init=init)
    h = nn.swish(GroupNorm(self.groups, dtype=self.dtype)(x))
    h = conv(self.out_ch, 3)(h)
    h = (
      h + nn.Dense(self.out_ch, dtype=self.dtype, kernel_init=_init)(nn.swish(temb))[:, None, None]
    )
    h = nn.swish(GroupNorm(self.groups, dtype=self.dtype)(h))
    h = Dropout(self.dropout, deterministic=not train)(h)
    h = conv(self.out_ch, 3, _zeros)(h)
    if x.shape[-1] != self.out_ch:
      x = conv(self.out_ch, 1)(x)
    return x + h


class AttnBlock(nn.Module):
  """Single-head self-attention over all H·W positions, residual.

  The same function as softmax(q kᵀ / √c) v. When the scores [B, N, N] are the largest
  tensor (N > c), it is arranged for XLA:CPU, whose matrix-product fusions take broadcast
  operands materialised (a broadcast over the scores is one more pass over them): the
  1/√c scale multiplies q rather than the scores, and the softmax's denominator divides
  the output [B, N, c] rather than the weights (the deferred normalisation of Flash
  attention). Measured on 2 CPU cores, forward and backward of a [32, 14, 14, 32] block
  take 0.86x the time of the textbook form, and the 28x28 DDPM U-Net's training step
  0.94-0.95x (two runs). Where N <= c (the 8x8 U-Net's 4x4 attention) the same
  arrangement made the step 3 % slower, so there the textbook form stays.
  """

  groups: int
  dtype: jnp.dtype = jnp.float32

  @nn.compact
  def __call__(self, x):
    b, hgt, wid, ch = x.shape
    h = GroupNorm(self.groups, dtype=self.dtype)(x).reshape(b, hgt * wid, ch)
    dense = lambda init=_init: nn.Dense(ch, dtype=self.dtype, kernel_init=init)
    q, k, v = dense()(h), dense()(h), dense()(h)
    if hgt * wid > ch:  # the scores [B, N, N] outsize q and the output [B, N, c]
      parts = _batch_parts(b)
      pieces = zip(*(jnp.split(t, parts) for t in (q, k, v)))
      h = jnp.concatenate([_attend(*piece) for piece in pieces]) if parts > 1 else _attend(q, k, v)
    else:
      w = jax.nn.softmax(jnp.einsum("bqc,bkc->bqk", q, k) / math.sqrt(ch), axis=-1)
      h = jnp.einsum("bqk,bkc->bqc", w, v)
    h = dense(_zeros)(h)
    return x + h.reshape(x.shape)


def _attend(q, k, v):
  """softmax(q kᵀ / √c) v with the scale on q and the denominator on the output."""
  s = jnp.einsum("bqc,bkc->bqk", q * (1 / math.sqrt(q.shape[-1])), k)
  e = jnp.exp(s - jax.lax.stop_gradient(s.max(axis=-1, keepdims=True)))
  return jnp.einsum("bqk,bkc->bqc", e, v) / e.sum(axis=-1, keepdims=True, dtype=jnp.float32)


def _batch_parts(b: int) -> int:
  """In how many independent pieces of the batch AttnBlock attends: the same values (the
  parameters' gradients, sums over the batch, to float rounding).

  XLA:CPU runs a batched matrix product on one thread (the [32, 196, 32] x [32, 32, 196]
  product of the 28x28 U-Net took the same 0.94 ms on one core as on two), and one
  piece's products, softmax and their gradients one after another; independent pieces
  run side by side on the cores. Measured on 2 CPU cores, forward and backward of the
  [32, 14, 14, 32] attention alone took 0.79x the time in 2 pieces and 0.67x in 4. The
  28x28 U-Net's training step (batch 32) at one step per call: 0.895x in 2, 0.885x in 4,
  0.904x in 8 (benchmarks/step_variants.py), 0.953x in 4 (benchmarks/conv_vs_torch.py
  against the code before); at its config's two steps per call 0.940x and 0.953x in two
  runs, 1.02x and 1.03x in two others (that benchmark's noise). The 16x16 U-Net's step
  (batch 64, attention at 8x8: N = 64) took 1.02x (0.85-1.39) the time of the whole
  batch's (conv_vs_torch, 9 rounds, paired ratio): no gain there. Not on an accelerator
  (smaller kernels for nothing), nor over several devices, where a piece of the batch
  would lie on one device's shard.
  """
  if jax.default_backend() != "cpu" or jax.device_count() != 1:
    return 1
  return next(p for p in (4, 2, 1) if b % p == 0)


def _concat_channels(a, b):
  """jnp.concatenate([a, b], axis=-1), written once into one buffer.

  XLA:CPU fuses a concatenation into each of its consumers (here the GroupNorm's sums,
  its normalisation and the 1x1 skip product), so the skip connections' concatenations
  ran three times each (~2.4 ms per copy of a [32, 28, 28, 48] map on one core; 18 ms of
  the 28x28 U-Net's 436 ms step). Two dynamic_update_slices into zeros are not
  duplicated: that step took 0.96-0.975x the time (3 runs of 9-15 rounds, 2 cores).
  The transposed convolutions' phase concatenation stays a concatenation: it fuses into
  the depth-to-space that follows, and the same change there made the conv VAE's step
  1.16x slower.
  """
  dtype = jnp.result_type(a, b)
  out = jnp.zeros(a.shape[:-1] + (a.shape[-1] + b.shape[-1],), dtype)
  out = jax.lax.dynamic_update_slice_in_dim(out, a.astype(dtype), 0, axis=-1)
  return jax.lax.dynamic_update_slice_in_dim(out, b.astype(dtype), a.shape[-1], axis=-1)


class UNet(nn.Module):
  """ε_θ(x_t, t): images [B, H, W, C] in model space and integer t [B] -> [B, H, W, C]."""

  ch: int = 128
  ch_mult: Sequence[int] = (1, 2, 2, 2)
  num_res_blocks: int = 2
  attn_resolutions: Sequence[int] = (16,)
  dropout: float = 0.1
  groups: int = 32
  dtype: jnp.dtype = jnp.float32

  @nn.compact
  def __call__(self, x, t, train: bool = False):
    out_ch = x.shape[-1]
    kw = dict(groups=self.groups, dtype=self.dtype)
    conv3 = lambda ch, init=_init, **options: Conv(
      ch, (3, 3), dtype=self.dtype, kernel_init=init, **options
    )

    temb = timestep_embedding(t, self.ch)
    temb = nn.Dense(4 * self.ch, dtype=self.dtype, kernel_init=_init)(temb)
    temb = nn.Dense(4 * self.ch, dtype=self.dtype, kernel_init=_init)(nn.swish(temb))

    hs = [conv3(self.ch)(x.astype(self.dtype))]
    for level, mult in enumerate(self.ch_mult):
      for _ in range(self.num_res_blocks):
        h = ResBlock(self.ch * mult, self.dropout, **kw)(hs[-1], temb, train)
        if h.shape[1] in self.attn_resolutions:
          h = AttnBlock(**kw)(h)
        hs.append(h)
      if level != len(self.ch_mult) - 1:
        hs.append(
          Conv(hs[-1].shape[-1], (3, 3), strides=(2, 2), dtype=self.dtype, kernel_init=_init)(
            hs[-1]
          )
        )

    h = hs[-1]
    h = ResBlock(h.shape[-1], self.dropout, **kw)(h, temb, train)
    h = AttnBlock(**kw)(h)
    h = ResBlock(h.shape[-1], self.dropout, **kw)(h, temb, train)

    for level, mult in reversed(list(enumerate(self.ch_mult))):
      for _ in range(self.num_res_blocks + 1):
        h = ResBlock(self.ch * mult, self.dropout, **kw)(_concat_channels(h, hs.pop()), temb, train)
        if h.shape[1] in self.attn_resolutions:
          h = AttnBlock(**kw)(h)
      if level != 0:
        # nearest-neighbour ×2 and a 3x3 conv, computed at the lower resolution
        h = conv3(h.shape[-1], conv_general_dilated=nearest_upsampled(2))(h)
    assert not hs

    h = nn.swish(GroupNorm(self.groups, dtype=self.dtype)(h))
    return conv3(out_ch, _zeros)(h).astype(jnp.float32)
