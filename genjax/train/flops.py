"""FLOPs of a training step, and the peak of the chip it runs on.

Two counts, for two uses:

- `model_flops`: 2 per multiply-add of every matrix product and convolution the traced
  program does, read from its jaxpr, so the same on every backend. This is what MFU is
  taken against. A convolution counts only the taps that fall inside the (dilated) image,
  as XLA:CPU counts them; a `lax.scan` counts its body once per trip; a `lax.cond` its
  costliest branch; a while loop, whose trip count is unknown when tracing, its body once.
- `compiled_flops`: XLA's cost analysis of the compiled program, elementwise work
  included. It depends on the backend. On XLA:CPU it is the model count plus a few per
  cent of elementwise work (tests/test_flops.py). XLA:GPU undercounts, on an H100 (jax
  0.11.2, bfloat16): the DDPM CIFAR-10 step (batch 128) came to 342 GFLOP against 4,461
  by the model count and 4,507 by XLA:CPU's, its convolutions being cuDNN's; MAE's
  (batch 4096, mostly matrix products) to 2,839 against 13,639, for a cause not
  established. An MFU from it was up to 13 times too low. Inside a loop it counts the
  body once, not once per trip.
"""

import math

import jax
from jax import extend as jex
import numpy as np

# Dense bf16 peak FLOP/s per chip, by a substring of jax's device_kind, most specific
# first ("TPU v5 lite" is v5e, "TPU v5" alone is v5p).
PEAK_BF16_FLOPS = (
  ("H200", 989e12),
  ("H100", 989e12),
  ("A100", 312e12),
  ("TPU v6 lite", 918e12),
  ("TPU v5 lite", 197e12),
  ("TPU v5", 459e12),
  ("TPU v4", 275e12),
)


def compiled_flops(compiled) -> float:
  """FLOPs of one call of a compiled jax function (`jit(f).lower(...).compile()`)."""
  analysis = compiled.cost_analysis()
  if isinstance(analysis, (list, tuple)):  # older jax: one dict per device program
    analysis = analysis[0] if analysis else {}
  return float((analysis or {}).get("flops", float("nan")))


def peak_flops(device_kind: str) -> float | None:
  """The chip's dense bf16 peak, or None for a chip not in the table (a CPU)."""
  for name, peak in PEAK_BF16_FLOPS:
    if name in device_kind:
      return peak
  return None


def model_flops(fn, *args, **kwargs) -> float:
  """2 × the multiply-adds of the matrix products and convolutions `fn(*args)` does, from
  its jaxpr (a jitted function's too: its inner jaxpr is read)."""
  return _jaxpr_flops(jax.make_jaxpr(fn)(*args, **kwargs).jaxpr)


def _jaxpr_flops(jaxpr) -> float:
  total = 0.0
  for eqn in jaxpr.eqns:
    name = eqn.primitive.name
    if name == "dot_general":
      total += _dot_flops(eqn)
    elif name == "conv_general_dilated":
      total += _conv_flops(eqn)
    elif name == "cond":
      total += max(_jaxpr_flops(b.jaxpr) for b in eqn.params["branches"])
    else:
      inner = sum(_jaxpr_flops(j) for j in _sub_jaxprs(eqn.params))
      total += inner * (eqn.params["length"] if name == "scan" else 1)
  return total


def _sub_jaxprs(params):
  for value in params.values():
    for v in value if isinstance(value, (tuple, list)) else (value,):
      if isinstance(v, jex.core.ClosedJaxpr):
        yield v.jaxpr
      elif isinstance(v, jex.core.Jaxpr):
        yield v


def _dot_flops(eqn) -> float:
  (contract, _), _ = eqn.params["dimension_numbers"]
  lhs = eqn.invars[0].aval.shape
  return 2.0 * math.prod(eqn.outvars[0].aval.shape) * math.prod(lhs[d] for d in contract)


def _conv_flops(eqn) -> float:
  """Each output element sums the kernel's input features over the taps that land on
  the image: per spatial axis, the (output position, tap) pairs whose input position is
  inside the lhs-dilated image and on its grid."""
  p = eqn.params
  lhs, rhs = eqn.invars[0].aval.shape, eqn.invars[1].aval.shape
  out = eqn.outvars[0].aval.shape
  lhs_spec, rhs_spec, out_spec = p["dimension_numbers"]
  pairs = 1
  for i in range(len(lhs_spec) - 2):
    size, taps = lhs[lhs_spec[i + 2]], rhs[rhs_spec[i + 2]]
    o = np.arange(out[out_spec[i + 2]])[:, None]
    k = np.arange(taps)[None, :]
    pos = o * p["window_strides"][i] + k * p["rhs_dilation"][i] - p["padding"][i][0]
    step = p["lhs_dilation"][i]
    pairs *= int(np.sum((pos >= 0) & (pos <= (size - 1) * step) & (pos % step == 0)))
  # out batch × out features × the kernel's input features (already per group) × pairs
  return 2.0 * out[out_spec[0]] * out[out_spec[1]] * rhs[rhs_spec[1]] * pairs
