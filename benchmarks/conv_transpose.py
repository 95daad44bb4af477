"""Time stride-2 upsampling layers: flax.linen.ConvTranspose vs. exact and inexact rewrites.

XLA:CPU computes the weight gradient of a stride-2 `nn.ConvTranspose` (a conv with
`lhs_dilation`) very slowly (measured on jax 0.10.2: about 240 ms for one 14->28 layer at batch
128, against 14 ms for its forward pass). This script times, on whatever device jax has,
the forward pass and forward+backward (value_and_grad w.r.t. params and input, jitted)
of each variant and prints a markdown table. Variants are timed round-robin (one call of
each per round) so that a noisy machine hurts them alike; medians are reported.

Every variant takes flax.linen.ConvTranspose's params ({'kernel': (k, k, Cin, Cout),
'bias': (Cout,)}). "exact?" is checked here, at the benchmark shape, against
nn.ConvTranspose: output and both gradients within 1e-4 relative (float32). A variant
whose warm call takes over a second is timed only 3 times.

  python benchmarks/conv_transpose.py [--runs 20] [--batch 128]
"""

from __future__ import annotations

import launch  # noqa: F401  (first: its XLA:CPU flags and log level, launch/malloc.py)

# isort: split

import argparse
import statistics
import time

import flax.linen as nn
import jax
from jax import lax
import jax.numpy as jnp
import numpy as np

from genjax.nn.upsample import (
  ConvTransposeUp,
  _axis_plan,
  conv_transpose_padding,
  conv_transpose_subpixel,
  depth_to_space,
)

DN = ("NHWC", "HWIO", "NHWC")


# --------------------------------------------------------------------------- variants


def flax_conv_transpose(k, s, padding, features):
  layer = nn.ConvTranspose(features, (k, k), strides=(s, s), padding=padding)
  return lambda p, x: layer.apply({"params": p}, x)


def phases(k, s, padding, features):
  """The library layer: s*s stride-1 phase convs with exact sub-kernels + depth_to_space."""
  layer = ConvTransposeUp(features, (k, k), strides=(s, s), padding=padding)
  return lambda p, x: layer.apply({"params": p}, x)


def subpixel(k, s, padding, features):
  """One stride-1 conv to s*s*C channels (union of the phases' taps) + depth_to_space."""
  return lambda p, x: conv_transpose_subpixel(x, p["kernel"], (s, s), padding) + p["bias"]


def subpixel_im2col(k, s, padding, features):
  """Sub-pixel form with the conv written as shifted slices + one matmul."""

  def f(p, x):
    n = x.shape[1]
    size, q, t_min, idx = _axis_plan(n, k, s, 1, padding)
    kk = idx.shape[0]
    w = jnp.pad(p["kernel"], ((0, 1), (0, 1), (0, 0), (0, 0)))
    w = w[idx[:, :, None, None], idx[None, None, :, :]]  # (K', s, K', s, I, O)
    w = w.transpose(0, 2, 4, 1, 3, 5).reshape(kk * kk * x.shape[-1], s * s * features)
    lo, hi = -t_min, q + t_min + kk - 1 - n
    xp = jnp.pad(x, ((0, 0), (lo, hi), (lo, hi), (0, 0)))
    cols = jnp.concatenate(
      [xp[:, a : a + q, b : b + q, :] for a in range(kk) for b in range(kk)], axis=-1
    )
    y = depth_to_space(cols @ w, s)[:, :size, :size]
    return y + p["bias"]

  return f


def subpixel_matmul_dw(k, s, padding, features):
  """Sub-pixel conv whose weight gradient is an im2col matmul (custom_vjp)."""

  def conv(x, w, pads):
    return lax.conv_general_dilated(x, w, (1, 1), pads, dimension_numbers=DN)

  def f(p, x):
    n = x.shape[1]
    size, q, t_min, idx = _axis_plan(n, k, s, 1, padding)
    kk = idx.shape[0]
    lo, hi = -t_min, q + t_min + kk - 1 - n
    pads = [(lo, hi), (lo, hi)]

    @jax.custom_vjp
    def sub_conv(x, w):
      return conv(x, w, pads)

    def fwd(x, w):
      return conv(x, w, pads), (x, w)

    def bwd(res, g):
      x, w = res
      dx = jax.vjp(lambda x: conv(x, w, pads), x)[1](g)[0]
      xp = jnp.pad(x, ((0, 0), (lo, hi), (lo, hi), (0, 0)))
      cols = jnp.concatenate(
        [xp[:, a : a + q, b : b + q, :] for a in range(kk) for b in range(kk)], axis=-1
      )
      m = g.shape[0] * q * q
      dw = lax.dot_general(cols.reshape(m, -1), g.reshape(m, -1), (((0,), (0,)), ((), ())))
      return dx, dw.reshape(w.shape)

    sub_conv.defvjp(fwd, bwd)
    w = jnp.pad(p["kernel"], ((0, 1), (0, 1), (0, 0), (0, 0)))
    w = w[idx[:, :, None, None], idx[None, None, :, :]]
    w = w.transpose(0, 2, 4, 1, 3, 5).reshape(kk, kk, x.shape[-1], s * s * features)
    return depth_to_space(sub_conv(x, w), s)[:, :size, :size] + p["bias"]

  return f


def zero_insert(k, s, padding, features):
  """Dilate the input with explicit zeros, then a plain stride-1 conv (exact)."""

  def f(p, x):
    b, n, _, c = x.shape
    low, high = conv_transpose_padding(k, s, padding)
    xd = jnp.zeros((b, n, s, n, s, c), x.dtype).at[:, :, 0, :, 0, :].set(x)
    xd = xd.reshape(b, n * s, n * s, c)[:, : (n - 1) * s + 1, : (n - 1) * s + 1]
    y = lax.conv_general_dilated(xd, p["kernel"], (1, 1), [(low, high)] * 2, dimension_numbers=DN)
    return y + p["bias"]

  return f


def resize_conv(k, s, padding, features):
  """Nearest-neighbour upsample then a stride-1 'SAME' conv: NOT the same function."""

  def f(p, x):
    b, n, _, c = x.shape
    xu = jnp.repeat(jnp.repeat(x, s, axis=1), s, axis=2)
    y = lax.conv_general_dilated(xu, p["kernel"], (1, 1), "SAME", dimension_numbers=DN)
    return y + p["bias"]

  return f


# Exact but ~4-10x SLOWER than nn.ConvTranspose's fwd+bwd here (its kernel gradient is a
# conv with a 28x28 window): timed only with --slow.
SLOW_VARIANTS = [("zero-insert input + conv", zero_insert, True)]

VARIANTS = [
  ("nn.ConvTranspose (lhs-dilated conv)", flax_conv_transpose, True),
  ("ConvTransposeUp: s² phase convs + depth_to_space", phases, True),
  ("sub-pixel: one conv to s²·C (union kernel) + depth_to_space", subpixel, True),
  ("sub-pixel as im2col + matmul", subpixel_im2col, True),
  ("sub-pixel conv, dW by im2col matmul (custom_vjp)", subpixel_matmul_dw, True),
  ("nearest resize + conv", resize_conv, False),
]


# --------------------------------------------------------------------------- timing


def _median_ms(fns, args, runs, slow_s=1.0, slow_runs=3):
  """Round-robin medians; a variant whose warm call takes > slow_s gets slow_runs runs."""
  budget = []
  for fn in fns:  # compile + warm-up
    jax.block_until_ready(fn(*args))
    t0 = time.perf_counter()
    jax.block_until_ready(fn(*args))
    budget.append(runs if time.perf_counter() - t0 < slow_s else min(runs, slow_runs))
  times = [[] for _ in fns]
  for rep in range(runs):
    for i, fn in enumerate(fns):
      if rep >= budget[i]:
        continue
      t0 = time.perf_counter()
      jax.block_until_ready(fn(*args))
      times[i].append(1e3 * (time.perf_counter() - t0))
  return [statistics.median(t) for t in times]


def _rel_err(a, b):
  a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
  return float(np.abs(a - b).max() / (np.abs(b).max() + 1e-30))


def bench_shape(batch, n, c_in, c_out, k, s, padding, runs, variants):
  key = jax.random.key(0)
  kx, kp, kg = jax.random.split(key, 3)
  x = jax.random.normal(kx, (batch, n, n, c_in), jnp.float32)
  ref_layer = nn.ConvTranspose(c_out, (k, k), strides=(s, s), padding=padding)
  params = ref_layer.init(kp, x)["params"]
  params = {**params, "bias": 0.1 * jax.random.normal(kg, params["bias"].shape)}
  y_ref = ref_layer.apply({"params": params}, x)
  cot = jax.random.normal(kg, y_ref.shape, jnp.float32)

  fwds, bwds = [], []
  for name, make, _ in variants:
    f = make(k, s, padding, c_out)

    def loss(p, x, f=f):
      return jnp.vdot(f(p, x), cot)

    fwds.append(jax.jit(f))
    bwds.append(jax.jit(jax.value_and_grad(loss, argnums=(0, 1))))

  rows = []
  grads_ref = bwds[0](params, x)[1]
  for (name, _, exact), fwd, bwd in zip(variants, fwds, bwds):
    y = fwd(params, x)
    if y.shape != y_ref.shape:
      verdict = f"no (shape {y.shape[1:3]})"
    elif not exact:
      verdict = "no (different op)"
    else:
      g = bwd(params, x)[1]
      err = max(
        _rel_err(y, y_ref),
        _rel_err(g[0]["kernel"], grads_ref[0]["kernel"]),
        _rel_err(g[0]["bias"], grads_ref[0]["bias"]),
        _rel_err(g[1], grads_ref[1]),
      )
      verdict = f"yes ({err:.0e})" if err < 1e-4 else f"NO ({err:.0e})"
    rows.append([name, verdict])

  t_fwd = _median_ms(fwds, (params, x), runs)
  t_bwd = _median_ms(bwds, (params, x), runs)
  for row, tf, tb in zip(rows, t_fwd, t_bwd):
    row += [f"{tf:.1f}", f"{tb:.1f}", f"{tb / t_bwd[0]:.2f}"]
  return rows


def main():
  ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  ap.add_argument("--runs", type=int, default=20)
  ap.add_argument("--batch", type=int, default=128)
  ap.add_argument("--slow", action="store_true", help="also time the zero-insert variant")
  args = ap.parse_args()

  dev = jax.devices()[0]
  print(
    f"device: {dev.platform} / {dev.device_kind} ({jax.device_count()} device(s)), "
    f"jax {jax.__version__}, medians of {args.runs} runs after warm-up\n"
  )
  shapes = [
    (args.batch, 14, 64, 32, 4, 2, "SAME"),
    (args.batch, 7, 128, 64, 4, 2, "SAME"),
    (args.batch, 14, 64, 32, 3, 2, "SAME"),
  ]
  for b, n, ci, co, k, s, pad in shapes:
    print(f"### batch {b}, {n}x{n}x{ci} -> {n * s}x{n * s}x{co}, kernel {k}, stride {s}, {pad}\n")
    print("| variant | exact? | fwd ms | fwd+bwd ms | fwd+bwd ratio to nn.ConvTranspose |")
    print("|---|---|---:|---:|---:|")
    variants = VARIANTS + (SLOW_VARIANTS if args.slow else [])
    for row in bench_shape(b, n, ci, co, k, s, pad, args.runs, variants):
      print("| " + " | ".join(row) + " |")
    print()


if __name__ == "__main__":
  main()
