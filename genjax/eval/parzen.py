"""Gaussian Parzen-window log-likelihood of a sampler (Goodfellow et al. 2014, Table 1).

A GAN has no tractable likelihood; the paper fits an isotropic Gaussian kernel density to
generated samples g_1..g_N and reports, for test images x,

  log p(x) = logmeanexp_i log N(x; g_i, sigma^2 I)
           = logsumexp_i(-|x - g_i|^2 / (2 sigma^2)) - log N - d/2 log(2 pi sigma^2),

in nats, with sigma chosen on a validation split. The estimate is biased and has a high
variance in many dimensions (Theis et al. 2016): read it as the paper's comparison, not
as a likelihood.
"""

import math
from typing import Sequence

import jax
import jax.numpy as jnp
import numpy as np


def _log_kernel_sums(x, samples, sigmas, chunk: int):
  """logsumexp_i(-|x - g_i|^2 / (2 sigma^2)) for each x and sigma: [len(sigmas), len(x)].

  Squared distances as |x|^2 - 2 x.g + |g|^2 (one matmul per chunk of samples); the sums
  over chunks are combined with logaddexp so memory stays [len(x), chunk].
  """
  x = x.reshape(x.shape[0], -1)
  g = samples.reshape(samples.shape[0], -1)
  n = g.shape[0]
  pad = (-n) % chunk
  # Padded samples get an infinite distance, so they add exp(-inf) = 0 to every sum.
  g = jnp.pad(g, ((0, pad), (0, 0)))
  valid = jnp.arange(n + pad) < n
  xx = jnp.sum(jnp.square(x), axis=1)
  inv = 1.0 / (2.0 * jnp.square(sigmas))

  def body(acc, chunk_in):
    gc, vc = chunk_in
    # Full float32: TF32 (GPU) or bf16 passes (TPU) in x.g cancel against |x|^2 + |g|^2
    # and move the log-likelihood by nats, since it scales the error by 1 / (2 sigma^2).
    xg = jnp.matmul(
      x, gc.T, precision=jax.lax.Precision.HIGHEST, preferred_element_type=jnp.float32
    )
    d2 = jnp.maximum(xx[:, None] - 2.0 * xg + jnp.sum(jnp.square(gc), 1)[None], 0.0)
    d2 = jnp.where(vc[None], d2, jnp.inf)
    part = jax.nn.logsumexp(-d2[None] * inv[:, None, None], axis=-1)
    return jnp.logaddexp(acc, part), None

  init = jnp.full((sigmas.shape[0], x.shape[0]), -jnp.inf)
  chunks = (g.reshape(-1, chunk, g.shape[1]), valid.reshape(-1, chunk))
  acc, _ = jax.lax.scan(body, init, chunks)
  return acc


_log_kernel_sums_jit = jax.jit(_log_kernel_sums, static_argnums=3)


def parzen_log_likelihood(
  x, samples, sigmas, *, chunk: int = 1000, x_chunk: int = 500
) -> np.ndarray:
  """log p(x) under the Parzen window of `samples`, in nats: [len(sigmas), len(x)].

  `x` and `samples` are arrays of equal per-example shape, on the scale the bandwidths
  refer to (the paper: pixels in [0, 1]); `sigmas` a 1-D sequence of bandwidths.
  """
  x = jnp.asarray(x, jnp.float32)
  samples = jnp.asarray(samples, jnp.float32)
  sigmas = jnp.atleast_1d(jnp.asarray(sigmas, jnp.float32))
  d = int(np.prod(x.shape[1:]))
  chunk = min(chunk, samples.shape[0])
  sums = [
    _log_kernel_sums_jit(x[i : i + x_chunk], samples, sigmas, chunk)
    for i in range(0, x.shape[0], x_chunk)
  ]
  lse = np.asarray(jnp.concatenate(sums, axis=1), np.float64)
  s = np.asarray(sigmas, np.float64)[:, None]
  return lse - math.log(samples.shape[0]) - 0.5 * d * np.log(2.0 * math.pi * s**2)


def select_sigma(valid, samples, sigmas: Sequence[float], **kw) -> tuple[float, np.ndarray]:
  """The bandwidth with the highest mean validation log-likelihood, and every mean."""
  means = parzen_log_likelihood(valid, samples, sigmas, **kw).mean(axis=1)
  return float(np.asarray(sigmas)[int(np.argmax(means))]), means


def mean_and_stderr(values) -> tuple[float, float]:
  """Mean and standard error of the mean (the paper's "±")."""
  v = np.asarray(values, np.float64)
  stderr = v.std(ddof=1) / math.sqrt(len(v)) if len(v) > 1 else 0.0
  return float(v.mean()), float(stderr)
