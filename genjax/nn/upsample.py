"""Exact transposed convolution in a form that XLA:CPU differentiates fast.

`flax.linen.ConvTranspose` lowers to `lax.conv_general_dilated` with `lhs_dilation`
(the input is dilated by the stride). On XLA:CPU the weight gradient of that op is
very slow (measured on jax 0.10.2, 2 CPU cores: ~240 ms for one 14->28 layer at batch 128,
forward 14 ms).

A stride-s transposed convolution splits exactly into s*s phase convolutions, one per
output phase (r_h, r_w), each a stride-1 convolution of the *undilated* input with a
sub-kernel gathered from the full kernel; depth-to-space interleaves them. Forward and
both gradients are then ordinary stride-1 convolutions, which XLA:CPU does quickly
(`conv_transpose_phases`, used by `ConvTransposeUp`). Stacking all phases' taps into one
kernel with zeros gives the "sub-pixel" form, one stride-1 conv to s*s*C channels
(`conv_transpose_subpixel`): exact too, but more multiplies and slower here.

Derivation (one spatial dim; the 2-D case is the product). Flax/lax compute

  y[o] = sum_i xd[o + i - pa] * w[i],    xd[j*s] = x[j], zero elsewhere,

with `pa` the low padding of the dilated input. Writing o = q*s + r and o + i - pa = j*s
(j = q + t) gives i = t*s + pa - r, so

  y[q*s + r] = sum_t x[q + t] * w[t*s + pa - r]

i.e. phase r is a stride-1 correlation with taps w[t*s + pa - r] (zero where the index
falls outside the kernel). A kernel dilation d only keeps indices divisible by d.
"""

from __future__ import annotations

from collections.abc import Sequence
import functools
from typing import Any

import flax.linen as nn
from flax.linen import dtypes as flax_dtypes
from flax.linen import initializers
import jax
from jax import lax
import jax.numpy as jnp
import numpy as np

from genjax.nn import fastconv

Array = jax.Array
PaddingLike = str | int | Sequence[int | tuple[int, int]]

__all__ = [
  "ConvTransposeUp",
  "nearest_upsampled",
  "conv_transpose_padding",
  "conv_transpose_phases",
  "conv_transpose_subpixel",
  "depth_to_space",
  "space_to_depth",
]


def depth_to_space(x: Array, block_size: int | Sequence[int]) -> Array:
  """(N, H, W, bh*bw*C) -> (N, H*bh, W*bw, C); channel order (bh, bw, C) as in TF.

  Output pixel (h*bh + i, w*bw + j, c) is input channel (i*bw + j)*C + c.
  """
  bh, bw = (block_size, block_size) if isinstance(block_size, int) else block_size
  n, h, w, ch = x.shape
  if ch % (bh * bw):
    raise ValueError(f"channels {ch} not divisible by block {bh}x{bw}")
  c = ch // (bh * bw)
  x = x.reshape(n, h, w, bh, bw, c)
  x = x.transpose(0, 1, 3, 2, 4, 5)
  return x.reshape(n, h * bh, w * bw, c)


def space_to_depth(x: Array, block_size: int | Sequence[int]) -> Array:
  """Inverse of `depth_to_space`: (N, H*bh, W*bw, C) -> (N, H, W, bh*bw*C)."""
  bh, bw = (block_size, block_size) if isinstance(block_size, int) else block_size
  n, hh, ww, c = x.shape
  if hh % bh or ww % bw:
    raise ValueError(f"spatial {hh}x{ww} not divisible by block {bh}x{bw}")
  x = x.reshape(n, hh // bh, bh, ww // bw, bw, c)
  x = x.transpose(0, 1, 3, 2, 4, 5)
  return x.reshape(n, hh // bh, ww // bw, bh * bw * c)


def conv_transpose_padding(
  kernel_size: int, stride: int, padding: str | tuple[int, int], kernel_dilation: int = 1
) -> tuple[int, int]:
  """(low, high) padding of the stride-dilated input, as `lax.conv_transpose` uses it.

  'SAME' and 'VALID' name the padding of the *forward* convolution this transposes
  (output size n*s for 'SAME', n*s + max(k - s, 0) for 'VALID'). An explicit (lo, hi)
  pair is, as in flax.linen.ConvTranspose, taken literally as the padding applied to the
  dilated input -- it is NOT PyTorch's `padding`: torch's ConvTranspose2d(padding=p,
  output_padding=op) is (k_eff - 1 - p, k_eff - 1 - p + op) here, with transpose_kernel=True.
  """
  k = kernel_dilation * (kernel_size - 1) + 1
  s = stride
  if isinstance(padding, str):
    if padding == "SAME":
      total = k + s - 2
      low = k - 1 if s > k - 1 else -(-total // 2)
    elif padding == "VALID":
      total = k + s - 2 + max(k - s, 0)
      low = k - 1
    else:
      raise ValueError(f"unsupported padding {padding!r}")
    return low, total - low
  low, high = padding
  return int(low), int(high)


def _canonical_padding(padding: PaddingLike, rank: int) -> str | list[tuple[int, int]]:
  """Flax's padding forms: 'SAME' | 'VALID' | int | [int | (lo, hi)] * rank."""
  if isinstance(padding, str):
    if padding not in ("SAME", "VALID"):
      raise ValueError(f"padding {padding!r} is not supported (only 'SAME', 'VALID' and explicit)")
    return padding
  if isinstance(padding, int):
    return [(padding, padding)] * rank
  pads = []
  for p in padding:
    if isinstance(p, int):
      pads.append((p, p))
    elif len(p) == 2:
      pads.append((int(p[0]), int(p[1])))
    else:
      raise ValueError(f"invalid padding {padding!r}")
  if len(pads) != rank:
    raise ValueError(f"padding {padding!r} must have {rank} entries")
  return pads


def _phase_taps(k: int, s: int, d: int, low: int) -> tuple[int, np.ndarray]:
  """Tap table of the sub-pixel kernel along one spatial dim.

  Returns (t_min, idx) with idx of shape (K', s): idx[u, r] is the index into the
  (undilated) kernel of tap t = t_min + u for output phase r, or k (a zero row) when
  that tap does not exist.
  """
  k_eff = d * (k - 1) + 1
  t_min = -(low // s)  # ceil(-low / s): smallest t with t*s + low - r >= 0 for some r
  t_max = (k_eff + s - 2 - low) // s  # largest t with t*s + low - r <= k_eff - 1
  taps = np.arange(t_min, t_max + 1)[:, None] * s + low - np.arange(s)[None, :]
  valid = (taps >= 0) & (taps < k_eff) & (taps % d == 0)
  return t_min, np.where(valid, taps // d, k).astype(np.int32)


def _axis_plan(n: int, k: int, s: int, d: int, padding) -> tuple[int, int, int, np.ndarray]:
  """Geometry along one spatial dim: (output size, positions per phase q, t_min, taps)."""
  pad = padding if isinstance(padding, str) else tuple(padding)
  low, high = conv_transpose_padding(k, s, pad, d)
  size = (n - 1) * s + 1 + low + high - (d * (k - 1) + 1) + 1
  if size <= 0:
    raise ValueError(f"empty output: input {n}, kernel {k}, stride {s}, padding {padding}")
  t_min, taps = _phase_taps(k, s, d, low)
  return size, -(-size // s), t_min, taps


def _plans(inputs: Array, kernel: Array, strides, padding, kernel_dilation):
  if inputs.ndim != 4 or kernel.ndim != 4:
    raise ValueError("expected NHWC inputs and an HWIO kernel")
  dil = tuple(kernel_dilation) if kernel_dilation is not None else (1, 1)
  pads = [padding, padding] if isinstance(padding, str) else list(padding)
  return [
    _axis_plan(n, k, int(s), int(d), p)
    for n, k, s, d, p in zip(inputs.shape[1:3], kernel.shape[:2], strides, dil, pads)
  ]


def _conv(inputs, kernel, pads, precision, preferred_element_type):
  """Stride-1 NHWC/HWIO convolution; negative padding crops the input first.

  Cropping is done by slicing because XLA:CPU (jax 0.10.2) returns garbage for some
  convolutions with negative padding (e.g. a 2x2 kernel with pads [(-1, 1), (0, 0)]).
  """
  crop = tuple(slice(max(-lo, 0), n - max(-hi, 0)) for (lo, hi), n in zip(pads, inputs.shape[1:3]))
  return lax.conv_general_dilated(
    inputs[:, crop[0], crop[1], :],
    kernel,
    window_strides=(1, 1),
    padding=[(max(lo, 0), max(hi, 0)) for lo, hi in pads],
    dimension_numbers=("NHWC", "HWIO", "NHWC"),
    precision=precision,
    preferred_element_type=preferred_element_type,
  )


def conv_transpose_phases(
  inputs: Array,
  kernel: Array,
  strides: Sequence[int],
  padding: str | Sequence[tuple[int, int]],
  kernel_dilation: Sequence[int] | None = None,
  precision: Any = None,
  preferred_element_type: Any = None,
) -> Array:
  """Same result as `lax.conv_transpose(inputs, kernel, strides, padding, ...)` (NHWC,
  HWIO kernel, transpose_kernel=False), as s_h*s_w stride-1 convolutions of the input,
  one per output phase with its own exact sub-kernel, interleaved by depth-to-space.

  This is the form `ConvTransposeUp` uses: no multiply-by-zero work, and on XLA:CPU
  the fastest exact variant measured (benchmarks/conv_transpose.py).
  """
  (size_h, q_h, t0_h, taps_h), (size_w, q_w, t0_w, taps_w) = _plans(
    inputs, kernel, strides, padding, kernel_dilation
  )
  k_h, k_w = kernel.shape[:2]
  padded = jnp.pad(kernel, ((0, 1), (0, 1), (0, 0), (0, 0)))  # index k is a zero tap
  n_h, n_w = inputs.shape[1:3]

  def tap_range(taps, k, r, t0, q, n):
    rows = np.nonzero(taps[:, r] != k)[0]
    if rows.size == 0:
      return None
    u0, u1 = int(rows[0]), int(rows[-1])
    # conv padding (negative = crop): output j reads x[j + t0 + u0 ...]
    return taps[u0 : u1 + 1, r], (-(t0 + u0), q + t0 + u1 - n)

  def as_slice(idx, k):  # an arithmetic run of real taps (always, without dilation)
    step = int(idx[1] - idx[0]) if idx.size > 1 else 1
    if (idx < k).all() and step > 0 and (np.diff(idx) == step).all():
      return slice(int(idx[0]), int(idx[-1]) + 1, step)
    return None

  outs = []
  for r_h in range(taps_h.shape[1]):
    for r_w in range(taps_w.shape[1]):
      th = tap_range(taps_h, k_h, r_h, t0_h, q_h, n_h)
      tw = tap_range(taps_w, k_w, r_w, t0_w, q_w, n_w)
      if th is None or tw is None:  # no kernel tap lands on this phase: zeros
        outs.append(None)
        continue
      sl_h, sl_w = as_slice(th[0], k_h), as_slice(tw[0], k_w)
      if sl_h is not None and sl_w is not None:
        sub = kernel[sl_h, sl_w]  # strided slice: its gradient is a pad, not a scatter
      else:
        sub = padded[th[0][:, None], tw[0][None, :]]
      outs.append(_conv(inputs, sub, [th[1], tw[1]], precision, preferred_element_type))
  like = next(o for o in outs if o is not None)
  outs = [jnp.zeros_like(like) if o is None else o for o in outs]
  z = outs[0] if len(outs) == 1 else jnp.concatenate(outs, axis=-1)
  y = depth_to_space(z, (taps_h.shape[1], taps_w.shape[1]))
  return y[:, :size_h, :size_w, :]


def conv_transpose_subpixel(
  inputs: Array,
  kernel: Array,
  strides: Sequence[int],
  padding: str | Sequence[tuple[int, int]],
  kernel_dilation: Sequence[int] | None = None,
  precision: Any = None,
  preferred_element_type: Any = None,
) -> Array:
  """Same result as `conv_transpose_phases`, as ONE stride-1 convolution to
  s_h*s_w*Cout channels whose kernel is the union of all phases' taps (zeros where a
  phase has no tap), followed by depth-to-space. Simpler graph, but more multiplies
  (e.g. 3x3 vs 4 x 2x2 for k=4, s=2); slower than the phases on XLA:CPU.
  """
  (size_h, q_h, t0_h, taps_h), (size_w, q_w, t0_w, taps_w) = _plans(
    inputs, kernel, strides, padding, kernel_dilation
  )
  n_h, n_w = inputs.shape[1:3]
  (kk_h, s_h), (kk_w, s_w) = taps_h.shape, taps_w.shape
  c_in, c_out = kernel.shape[2:]
  padded = jnp.pad(kernel, ((0, 1), (0, 1), (0, 0), (0, 0)))  # index k is a zero tap
  w = padded[taps_h[:, :, None, None], taps_w[None, None, :, :]]  # (K'h, s_h, K'w, s_w, I, O)
  w = w.transpose(0, 2, 4, 1, 3, 5).reshape(kk_h, kk_w, c_in, s_h * s_w * c_out)
  pads = [(-t0_h, q_h + t0_h + kk_h - 1 - n_h), (-t0_w, q_w + t0_w + kk_w - 1 - n_w)]
  z = _conv(inputs, w, pads, precision, preferred_element_type)
  return depth_to_space(z, (s_h, s_w))[:, :size_h, :size_w, :]


def nearest_upsampled(factor: int):
  """A `conv_general_dilated` for flax's Conv (its field of that name) that convolves the
  input repeated `factor` times along each spatial axis: nearest-neighbour upsampling and
  the convolution in one, as in the DDPM U-Net's upsampling (×2 then a 3x3 conv).

  The same function, computed at the input's resolution. Repeating x is the stride-f
  transposed convolution of x with an f x f box of ones, so the two together are the
  stride-f transposed convolution of x with the kernel's full correlation with that box
  (kh+f-1 x kw+f-1), which `conv_transpose_phases` computes as f*f stride-1
  convolutions with (for a 3x3 kernel and f = 2) 2x2 sub-kernels: 16 taps per 4 output
  pixels instead of 36, and every derivative at the input's resolution too (XLA:CPU's
  weight gradient transposes its input to put the batch on the contracted axis, here the
  small input instead of the repeated one). Exact up to float rounding (taps are summed
  before they multiply; with bf16 operands the summed kernel is rounded to bf16 once).
  Forward mode and higher derivatives are plain jax (tests/test_upsample.py).

  Measured alone on 2 CPU cores (forward and both gradients, jit, float32, 2026-12-06):
  [64, 8, 8, 32] -> [64, 16, 16, 32] with a 3x3 kernel took 0.21x the time of the
  repeat and the convolution (1.98 ms against 9.51), [32, 14, 14, 32] -> 28x28 0.22x,
  [32, 4, 4, 32] -> 8x8 0.41x. The DDPM U-Net's training step, which upsamples once
  at these sizes: 0.98x (8x8), 0.98x (16x16) and 0.95x (28x28) the time side by side
  (benchmarks/conv_vs_torch.py --baseline_repo, 9 rounds, paired per-round ratios).
  Strides, dilations, groups or another layout than
  NHWC/HWIO fall back to the repeat and `fastconv.conv_general_dilated`.
  """
  if int(factor) < 1:
    raise ValueError(f"the upsampling factor must be a positive integer, not {factor!r}")
  return functools.partial(_nearest_upsampled_conv, factor=int(factor))


def _nearest_upsampled_conv(lhs: Array, rhs: Array, window_strides, padding, *, factor, **options):
  """`lax.conv_general_dilated`'s arguments (`options` its keyword ones) on the input
  repeated `factor` times along each spatial axis."""
  dimension_numbers = options.get("dimension_numbers")
  plain = (
    lhs.ndim == 4
    and fastconv.is_nhwc(dimension_numbers)
    and fastconv.is_unit(window_strides)
    and fastconv.is_unit(options.get("lhs_dilation"))
    and fastconv.is_unit(options.get("rhs_dilation"))
    and options.get("feature_group_count", 1) == 1
    and options.get("batch_group_count", 1) == 1
  )
  if factor == 1 or not plain:
    for axis in _spatial_axes(lhs, rhs, dimension_numbers):
      lhs = jnp.repeat(lhs, factor, axis=axis)
    return fastconv.conv_general_dilated(lhs, rhs, window_strides, padding, **options)
  kh, kw = rhs.shape[:2]
  up = (lhs.shape[1] * factor, lhs.shape[2] * factor)
  if isinstance(padding, str):
    padding = lax.padtype_to_pads(up, (kh, kw), (1, 1), padding)
  box = jnp.zeros((kh + factor - 1, kw + factor - 1, *rhs.shape[2:]), jnp.float32)
  for i in range(factor):
    for j in range(factor):
      box = box.at[i : i + kh, j : j + kw].add(rhs.astype(jnp.float32))
  pads = [(int(lo) + factor - 1, int(hi) + factor - 1) for lo, hi in padding]
  return conv_transpose_phases(
    lhs,
    box.astype(rhs.dtype),
    (factor, factor),
    pads,
    precision=options.get("precision"),
    preferred_element_type=options.get("preferred_element_type"),
  )


def _spatial_axes(lhs: Array, rhs: Array, dimension_numbers) -> Sequence[int]:
  return lax.conv_dimension_numbers(lhs.shape, rhs.shape, dimension_numbers).lhs_spec[2:]


class ConvTransposeUp(nn.Module):
  """Drop-in, exact replacement for a 2-D `flax.linen.ConvTranspose`, fast to train on CPU.

  Same attributes, parameter names and shapes ('kernel' (kh, kw, Cin, Cout), or
  (kh, kw, Cout, Cin) with transpose_kernel=True; 'bias' (Cout,)) and the same padding
  convention as flax (see `conv_transpose_padding`), so params move freely between the
  two. Computed as s_h*s_w stride-1 phase convolutions interleaved by depth-to-space
  (`conv_transpose_phases`; see the module docstring).

  Differences from flax.linen.ConvTranspose: 2-D only (inputs (..., H, W, C)); an int
  `kernel_size` means a square kernel (flax would read it as 1-D); padding 'CIRCULAR'
  is not supported; a configuration whose output would be empty raises ValueError.
  """

  features: int
  kernel_size: int | Sequence[int]
  strides: int | Sequence[int] | None = None
  padding: PaddingLike = "SAME"
  kernel_dilation: int | Sequence[int] | None = None
  use_bias: bool = True
  mask: Array | None = None
  dtype: Any = None
  param_dtype: Any = jnp.float32
  precision: Any = None
  kernel_init: Any = nn.linear.default_kernel_init
  bias_init: Any = initializers.zeros_init()
  transpose_kernel: bool = False
  preferred_element_type: Any = None

  @nn.compact
  def __call__(self, inputs: Array) -> Array:
    def pair(v: int | Sequence[int] | None) -> tuple[int, int]:
      if v is None:
        return (1, 1)
      if isinstance(v, int):
        return (v, v)
      v = tuple(v)
      if len(v) != 2:
        raise ValueError(f"expected 2 values, got {v}")
      return v

    kernel_size = pair(self.kernel_size)
    strides = pair(self.strides)
    dilation = pair(self.kernel_dilation)

    # Flatten leading batch dims to one (or add one), as flax does.
    batch_shape = inputs.shape[:-3]
    x = inputs.reshape((-1, *inputs.shape[-3:]))

    c_in = x.shape[-1]
    if self.transpose_kernel:
      kernel_shape = (*kernel_size, self.features, c_in)
    else:
      kernel_shape = (*kernel_size, c_in, self.features)
    if self.mask is not None and self.mask.shape != kernel_shape:
      raise ValueError(f"mask shape {self.mask.shape} != kernel shape {kernel_shape}")
    kernel = self.param("kernel", self.kernel_init, kernel_shape, self.param_dtype)
    if self.mask is not None:
      kernel = kernel * self.mask
    bias = (
      self.param("bias", self.bias_init, (self.features,), self.param_dtype)
      if self.use_bias
      else None
    )
    x, kernel, bias = flax_dtypes.promote_dtype(x, kernel, bias, dtype=self.dtype)
    if self.transpose_kernel:
      kernel = jnp.flip(kernel, (0, 1)).swapaxes(2, 3)

    y = conv_transpose_phases(
      x,
      kernel,
      strides,
      _canonical_padding(self.padding, 2),
      kernel_dilation=dilation,
      precision=self.precision,
      preferred_element_type=self.preferred_element_type,
    )
    if bias is not None:
      y = y + bias.reshape(1, 1, 1, -1)
    return y.reshape((*batch_shape, *y.shape[1:]))
