"""Samplers of autoregressive image models: one sub-pixel at a time, inside jit.

Sub-pixel p = (i * W + j) * C + c in raster then channel order draws its value with the
key fold_in(key, p), so two samplers that compute the same logits give the same
samples. Both take pure functions of the parameters, never a module:

- naive: `logits_fn(params, x, label) -> [B, H, W, C, K]` on the whole image, once per
  sub-pixel (H*W*C full forward passes);
- fast: `init_fn(params, x, label) -> cache`, `row_fn(params, cache, x, i, label) ->
  cache` at the start of each row, and `pixel_fn(params, cache, x, i, j, label) ->
  (logits [B, C, K], cache)`: the model recomputes only what pixel (i, j) can change.

K is the number of parameters of the sub-pixel distribution `dist` (genjax/subpixel.py),
whose `sample(key, params [B, K]) -> [B]` draws each value.
`given` and `start` complete images: sub-pixels before `start` are taken from `given`.
"""

import jax
import jax.numpy as jnp


def _start_image(image_shape, n, given):
  if given is None:
    return jnp.zeros((n,) + tuple(image_shape), jnp.float32)
  return jnp.asarray(given, jnp.float32)


def first_hidden(image_shape, row: int) -> int:
  """The sub-pixel index of (row, 0, 0): where completing a hidden bottom part starts."""
  _, w, c = image_shape
  return row * w * c


def make_naive_sampler(logits_fn, image_shape, dist):
  """(params, key, n, *, label, given, start) -> images [n, H, W, C] in [-1, 1]."""
  hh, ww, cc = image_shape

  def sample(params, key, n, *, label=None, given=None, start=0):
    def body(p, x):
      i, j, c = p // (ww * cc), (p // cc) % ww, p % cc
      logits = logits_fn(params, x, label)[:, i, j, c]
      return x.at[:, i, j, c].set(dist.sample(jax.random.fold_in(key, p), logits))

    x = _start_image(image_shape, n, given)
    return jax.lax.fori_loop(start, hh * ww * cc, body, x)

  return sample


def make_fast_sampler(init_fn, row_fn, pixel_fn, image_shape, dist):
  """Same signature and samples as make_naive_sampler's, from a model's cache methods.

  When completing, rows before `start` still run (their caches are needed), with the
  given values in place of draws."""
  hh, ww, cc = image_shape

  def sample(params, key, n, *, label=None, given=None, start=0):
    def row(i, carry):
      x, cache = carry
      cache = row_fn(params, cache, x, i, label)

      def pixel(jc, carry):
        x, cache = carry
        j, c = jc // cc, jc % cc
        p = (i * ww + j) * cc + c
        logits, cache = pixel_fn(params, cache, x, i, j, label)
        value = dist.sample(jax.random.fold_in(key, p), logits[:, c])
        value = jnp.where(p < start, x[:, i, j, c], value)
        return x.at[:, i, j, c].set(value), cache

      return jax.lax.fori_loop(0, ww * cc, pixel, (x, cache))

    x = _start_image(image_shape, n, given)
    x, _ = jax.lax.fori_loop(0, hh, row, (x, init_fn(params, x, label)))
    return x

  return sample
