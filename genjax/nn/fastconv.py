"""Convolution that XLA:CPU trains faster: 1x1 and narrow convolutions as matrix products.

XLA:CPU (jax 0.10.2) lowers the *weight gradient* of a convolution to another
convolution whose window is the whole output map (the batch becomes the contracted
feature dim), plus transposes of the activations into that layout. For a 1x1
convolution that is the matrix product X^T dY computed very slowly: profiled on 2 CPU
cores (benchmarks/conv_vs_torch.py), the PixelCNN digits step spent ~90 ms of ~300 ms in
its 1x1 head's weight gradient alone, and its eleven 1x1 layers' weight gradients were
most of the step.

`conv_general_dilated` computes the same function as `lax.conv_general_dilated`. For a
2-D NHWC/HWIO convolution with stride 1 and no dilation or groups:
  * pointwise (1x1, no padding): the matrix product it is, (N*H*W, Cin) @ (Cin, Cout),
    whose derivatives jax takes as matrix products too (dX = dY W^T, dW = X^T dY), with
    the weight gradient's operands in XLA's faster order (`_matmul`);
  * narrow (kh*kw*Cout <= Cin, e.g. a 3x3 layer to 1-3 image channels): one product to
    kh*kw*Cout channels and a shifted sum (`_narrow_conv`), whose weight gradient reads
    the input in its own layout.
Every other convolution goes to `lax.conv_general_dilated` unchanged. All forms are plain
jax (no custom derivative rules: forward mode and grads of grads work). Results equal
lax's up to float rounding (the sums may run in another order); tests/test_fastconv.py
checks values, both gradients, second derivatives and forward mode against lax and
flax's nn.Conv.

Measured side by side (benchmarks/conv_vs_torch.py --baseline_repo=<eccaa67>, 2 AVX-512
cores, 2026-12-05, four runs of 5-15 rounds): the conv VAE's training step, whose last
layer is 3x3 from 32 channels to 1, took 0.87-0.96x its time; PixelCNN's 0.97-1.10x,
i.e. within noise (its five narrowing 1x1 layers' weight gradients are each ~0.25 ms
faster in isolation, ~1.2 ms of a ~60 ms step); the DDPM U-Net steps (one narrow output
layer) 0.96-1.03x, two runs.

`Conv` is flax.linen.Conv with this convolution: same attributes, parameter names,
shapes and auto-names ("Conv_0", ...), so checkpoints move freely between the two.

Tried and not kept (full training steps, measured side by side on 2 CPU cores): the
weight gradient of k x k convolutions as one matrix product over extracted patches
(a custom VJP; P^T dY with P the (N*Ho*Wo, kh*kw*Cin) patch matrix): PixelCNN step
1.3x, conv VAE and DCGAN steps 1.7-1.9x *slower* than XLA's own gradient (the patch
matrix costs more memory traffic than the product saves, and a product with one output
channel, the VAE's last layer, runs as a slow matrix-vector product); the same with
channel-first patches: no better; as kh*kw per-tap products: VAE 1.09x, DDPM 2.8x
slower. The narrow form's weight gradient as a custom VJP over the lax convolution
measured the same (VAE 0.93-0.97x) but loses forward mode, so the plain-jax form is kept.
"""

from __future__ import annotations

from typing import Any

import flax.linen as nn
import jax
from jax import lax
import jax.numpy as jnp

Array = jax.Array

__all__ = ["Conv", "conv_general_dilated"]

_DN = ("NHWC", "HWIO", "NHWC")


def is_unit(v) -> bool:
  return v is None or all(int(d) == 1 for d in v)


def is_nhwc(dimension_numbers) -> bool:
  if dimension_numbers is None:  # lax's default is NCHW/OIHW
    return False
  if isinstance(dimension_numbers, lax.ConvDimensionNumbers):
    return dimension_numbers == lax.conv_dimension_numbers((1, 1, 1, 1), (1, 1, 1, 1), _DN)
  return tuple(dimension_numbers) == _DN


def _is_zero_padding(padding) -> bool:
  if isinstance(padding, str):  # a 1x1 stride-1 window pads nothing under either rule
    return padding in ("SAME", "VALID")
  return all(int(lo) == 0 and int(hi) == 0 for lo, hi in padding)


def conv_general_dilated(
  lhs: Array,
  rhs: Array,
  window_strides,
  padding,
  lhs_dilation=None,
  rhs_dilation=None,
  dimension_numbers: Any = None,
  feature_group_count: int = 1,
  batch_group_count: int = 1,
  precision: Any = None,
  preferred_element_type: Any = None,
) -> Array:
  """Drop-in for `lax.conv_general_dilated`: a pointwise 2-D NHWC/HWIO convolution as a
  matrix product, anything else by lax."""
  pointwise = (
    lhs.ndim == 4
    and rhs.ndim == 4
    and rhs.shape[:2] == (1, 1)
    and is_nhwc(dimension_numbers)
    and is_unit(window_strides)
    and _is_zero_padding(padding)
    and is_unit(lhs_dilation)
    and is_unit(rhs_dilation)
    and feature_group_count == 1
    and batch_group_count == 1
  )
  if not pointwise:
    if (
      lhs.ndim == 4
      and rhs.ndim == 4
      and is_nhwc(dimension_numbers)
      and is_unit(window_strides)
      and is_unit(lhs_dilation)
      and is_unit(rhs_dilation)
      and feature_group_count == 1
      and batch_group_count == 1
      and preferred_element_type is None
      and rhs.shape[0] * rhs.shape[1] * rhs.shape[3] <= rhs.shape[2]
    ):
      pads = _pads(lhs, rhs, padding)
      if all(n + lo + hi >= k for n, (lo, hi), k in zip(lhs.shape[1:3], pads, rhs.shape[:2])):
        return _narrow_conv(lhs, rhs, pads, precision)
    return lax.conv_general_dilated(
      lhs,
      rhs,
      window_strides,
      padding,
      lhs_dilation=lhs_dilation,
      rhs_dilation=rhs_dilation,
      dimension_numbers=dimension_numbers,
      feature_group_count=feature_group_count,
      batch_group_count=batch_group_count,
      precision=precision,
      preferred_element_type=preferred_element_type,
    )
  n, h, w, c = lhs.shape
  x, k = lhs.reshape(n * h * w, c), rhs.reshape(c, rhs.shape[3])
  return _matmul(x, k, precision, preferred_element_type).reshape(n, h, w, -1)


def _matmul(x: Array, k: Array, precision, preferred_element_type=None) -> Array:
  """x (M, Cin) @ k (Cin, Cout), M large, written so that the weight gradient x^T dy
  runs with the operand of fewer columns on the left.

  XLA:CPU's product of two tall matrices over their rows runs 2-3.5x faster that way
  (measured on 2 cores, M = 25088..100352, the other order in brackets): (M,16)^T (M,32)
  0.24-0.25 ms [0.47-0.48 ms]; (M,9)^T (M,32) 0.54 ms [1.84 ms]; (M,32) with (M,64) within
  noise either way. Autodiff transposes `kt = k.T; x @ kt^T`
  into `(dy^T x)^T`, and the barrier keeps XLA's simplifier from folding that back into
  `x^T dy`. Forward mode and higher derivatives are plain jax.
  """
  kw = dict(precision=precision, preferred_element_type=preferred_element_type)
  if k.shape[1] >= k.shape[0]:
    return lax.dot_general(x, k, (((1,), (0,)), ((), ())), **kw)
  kt = lax.optimization_barrier(k.T)
  return lax.dot_general(x, kt, (((1,), (1,)), ((), ())), **kw)


def _pads(lhs, rhs, padding) -> tuple[tuple[int, int], ...]:
  if isinstance(padding, str):
    padding = lax.padtype_to_pads(lhs.shape[1:3], rhs.shape[:2], (1, 1), padding)
  return tuple((int(lo), int(hi)) for lo, hi in padding)


def _narrow_conv(x: Array, w: Array, pads, precision) -> Array:
  """A stride-1 convolution with few outputs (kh*kw*Cout <= Cin) as one matrix product
  and a shifted sum: z = x W with W (Cin, kh*kw*Cout), then y[p] = sum_t zpad[p + t, t].

  Exact: z is pointwise in x, so zero-padding x pads z. Its autodiff is what makes it
  fast: the weight gradient becomes x^T (dy's kh*kw shifted copies), one product that
  reads x in its own NHWC layout. XLA's convolution weight gradient instead transposes
  x to put the batch on the contracted axis, which for a narrow output costs more than
  the product (the conv VAE's last layer, 32 -> 1 channels at 28x28, batch 128: a
  [128,28,28,32] transpose of ~10 ms of a ~105 ms step).
  """
  kh, kw, cin, cout = w.shape
  n, h, wd, _ = x.shape
  (lo_h, hi_h), (lo_w, hi_w) = pads
  ho, wo = h + lo_h + hi_h - kh + 1, wd + lo_w + hi_w - kw + 1
  k = w.transpose(2, 0, 1, 3).reshape(cin, kh * kw * cout)
  # bf16 inputs: the product and the shifted sum in float32, rounded once, as a
  # convolution's own accumulation would be.
  acc = jnp.promote_types(jnp.result_type(x, w), jnp.float32)
  z = _matmul(x.reshape(n * h * wd, cin), k, precision, acc).reshape(n, h, wd, kh * kw, cout)
  z = lax.pad(
    z, jnp.zeros((), z.dtype), ((0, 0, 0), (lo_h, hi_h, 0), (lo_w, hi_w, 0), (0, 0, 0), (0, 0, 0))
  )
  y = sum(z[:, i : i + ho, j : j + wo, i * kw + j] for i in range(kh) for j in range(kw))
  return y.astype(jnp.result_type(x, w))


class Conv(nn.Conv):
  """flax.linen.Conv computed by `conv_general_dilated` above (1x1 layers as matrix
  products). Same fields, parameters and auto-names as nn.Conv; every configuration
  computes as flax's, up to float rounding."""

  conv_general_dilated: Any = conv_general_dilated
