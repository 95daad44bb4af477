"""Convolution that XLA:CPU trains faster: 1x1 convolutions as matrix products; exact.

XLA:CPU (jax 0.10.2) lowers the *weight gradient* of a convolution to another
convolution whose window is the whole output map (the batch becomes the contracted
feature dim), plus transposes of the activations into that layout. For a 1x1
convolution that is the matrix product X^T dY computed very slowly: profiled on 2 CPU
cores (benchmarks/conv_vs_torch.py), the PixelCNN digits step spent ~90 ms of ~300 ms in
its 1x1 head's weight gradient alone, and its eleven 1x1 layers' weight gradients were
most of the step.

`conv_general_dilated` computes the same function as `lax.conv_general_dilated`; where
the convolution is pointwise (2-D, NHWC input, HWIO kernel, 1x1 window, stride 1, no
padding, dilation or groups) it is written as the matrix product it is,
(N*H*W, Cin) @ (Cin, Cout), whose derivatives jax takes as matrix products too (dX = dY
W^T, dW = X^T dY). Every other convolution goes to `lax.conv_general_dilated`
unchanged. Results equal lax's up to float rounding (the sums may run in another
order); tests/test_fastconv.py checks values and both gradients against flax's nn.Conv.

`Conv` is flax.linen.Conv with this convolution: same attributes, parameter names,
shapes and auto-names ("Conv_0", ...), so checkpoints move freely between the two.

Tried and not kept (full training steps, measured side by side on 2 CPU cores): the
weight gradient of k x k convolutions as one matrix product over extracted patches
(a custom VJP; P^T dY with P the (N*Ho*Wo, kh*kw*Cin) patch matrix): PixelCNN step
1.3x, conv VAE and DCGAN steps 1.7-1.9x *slower* than XLA's own gradient (the patch
matrix costs more memory traffic than the product saves, and a product with one output
channel, the VAE's last layer, runs as a slow matrix-vector product); the same with
channel-first patches: no better; as kh*kw per-tap products: VAE 1.09x, DDPM 2.8x
slower.
"""

from __future__ import annotations

from typing import Any

import flax.linen as nn
import jax
from jax import lax

Array = jax.Array

__all__ = ["Conv", "conv_general_dilated"]

_DN = ("NHWC", "HWIO", "NHWC")


def _is_unit(v) -> bool:
  return v is None or all(int(d) == 1 for d in v)


def _is_nhwc(dimension_numbers) -> bool:
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
    and _is_nhwc(dimension_numbers)
    and _is_unit(window_strides)
    and _is_zero_padding(padding)
    and _is_unit(lhs_dilation)
    and _is_unit(rhs_dilation)
    and feature_group_count == 1
    and batch_group_count == 1
  )
  if not pointwise:
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
  y = lax.dot_general(
    lhs.reshape(n * h * w, c),
    rhs.reshape(c, rhs.shape[3]),
    (((1,), (0,)), ((), ())),
    precision=precision,
    preferred_element_type=preferred_element_type,
  )
  return y.reshape(n, h, w, -1)


class Conv(nn.Conv):
  """flax.linen.Conv computed by `conv_general_dilated` above (1x1 layers as matrix
  products). Same fields, parameters and auto-names as nn.Conv; every configuration
  computes as flax's, up to float rounding."""

  conv_general_dilated: Any = conv_general_dilated
