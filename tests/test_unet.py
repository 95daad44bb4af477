"""The DDPM U-Net's parts that XLA:CPU runs in a faster arrangement: the same functions."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from genjax.nn import unet
from genjax.nn.groupnorm import GroupNorm
from genjax.nn.unet import AttnBlock, _concat_channels


def textbook(params, x, groups):
  """x + Dense_3(softmax(q kᵀ / √c) v), q, k, v = Dense_0..2(GroupNorm(x)), as written."""
  p = params["params"]
  b, hgt, wid, ch = x.shape
  h = GroupNorm(groups).apply({"params": p["GroupNorm_0"]}, x).reshape(b, hgt * wid, ch)
  q, k, v = (h @ p[f"Dense_{i}"]["kernel"] + p[f"Dense_{i}"]["bias"] for i in range(3))
  w = jax.nn.softmax(jnp.einsum("bqc,bkc->bqk", q, k) / math.sqrt(ch), axis=-1)
  o = jnp.einsum("bqk,bkc->bqc", w, v) @ p["Dense_3"]["kernel"] + p["Dense_3"]["bias"]
  return x + o.reshape(x.shape)


def _block_and_params(scale=0.3, shape=(3, 4, 5, 8)):
  x = jax.random.normal(jax.random.key(0), shape)
  block = AttnBlock(groups=4)
  params = block.init(jax.random.key(1), x)
  # The output layer starts at zero; perturb every parameter so that each path counts.
  leaves, tree = jax.tree.flatten(params)
  keys = jax.random.split(jax.random.key(2), len(leaves))
  noisy = [a + scale * jax.random.normal(k, a.shape) for a, k in zip(leaves, keys)]
  return block, jax.tree.unflatten(tree, noisy), x


def test_parameters_keep_dense_names_shapes_and_initial_values():
  x = jnp.ones((2, 3, 3, 8))
  params = AttnBlock(groups=4).init(jax.random.key(0), x)["params"]
  assert sorted(params) == ["Dense_0", "Dense_1", "Dense_2", "Dense_3", "GroupNorm_0"]
  for i in range(4):
    assert params[f"Dense_{i}"]["kernel"].shape == (8, 8)
    assert params[f"Dense_{i}"]["bias"].shape == (8,)
  # Each kernel is its own draw (no shared key), the output layer starts at zero.
  assert not np.allclose(params["Dense_0"]["kernel"], params["Dense_1"]["kernel"])
  assert not np.any(params["Dense_3"]["kernel"])


@pytest.mark.parametrize("shape", [(3, 4, 5, 8), (3, 2, 2, 8)], ids=["N>c", "N<=c"])
def test_values_and_gradients_match_the_textbook_form(shape):
  # N > c divides the output by the softmax's denominator, N <= c the weights.
  block, params, x = _block_and_params(shape=shape)
  np.testing.assert_allclose(block.apply(params, x), textbook(params, x, 4), atol=1e-5)
  loss = lambda f: lambda p, x: jnp.sum(jnp.sin(f(p, x)))
  got = jax.grad(loss(block.apply), argnums=(0, 1))(params, x)
  want = jax.grad(loss(lambda p, x: textbook(p, x, 4)), argnums=(0, 1))(params, x)
  for g, w in zip(jax.tree.leaves(got), jax.tree.leaves(want)):
    np.testing.assert_allclose(g, w, atol=2e-5, rtol=1e-5)


def test_attending_in_pieces_of_the_batch_changes_nothing(monkeypatch):
  """On one CPU device the batch is attended in pieces, which run side by side; each
  example's values and input gradient are exactly those of the whole batch at once, the
  parameters' gradients (sums over the batch, which XLA may now add in another order)
  equal to float rounding."""
  if jax.default_backend() != "cpu" or jax.device_count() != 1:
    pytest.skip("pieces on a single CPU device only")
  block, params, x = _block_and_params(shape=(8, 4, 5, 8))
  assert unet._batch_parts(8) == 4 and unet._batch_parts(6) == 2 and unet._batch_parts(3) == 1
  loss = lambda p, x: jnp.sum(jnp.sin(block.apply(p, x)))
  pieces = jax.jit(block.apply)(params, x), jax.jit(jax.grad(loss, (0, 1)))(params, x)
  monkeypatch.setattr(unet, "_batch_parts", lambda b: 1)
  whole = jax.jit(block.apply)(params, x), jax.jit(jax.grad(loss, (0, 1)))(params, x)
  np.testing.assert_array_equal(pieces[0], whole[0])
  np.testing.assert_array_equal(pieces[1][1], whole[1][1])
  for p, w in zip(jax.tree.leaves(pieces[1][0]), jax.tree.leaves(whole[1][0])):
    np.testing.assert_allclose(p, w, rtol=1e-5, atol=1e-6)


def test_large_scores_stay_finite_and_exact():
  # Scores in the hundreds: exp overflows float32 unless the row maximum is subtracted.
  block, params, x = _block_and_params(scale=4.0)
  p = params["params"]
  h = GroupNorm(4).apply({"params": p["GroupNorm_0"]}, x).reshape(3, 20, 8)
  q, k = (h @ p[f"Dense_{i}"]["kernel"] + p[f"Dense_{i}"]["bias"] for i in range(2))
  assert float(jnp.max(jnp.einsum("bqc,bkc->bqk", q, k))) / math.sqrt(8) > 100  # exp > f32 max
  y = block.apply(params, x)
  assert np.all(np.isfinite(y))
  np.testing.assert_allclose(y, textbook(params, x, 4), rtol=1e-4, atol=1e-3)
  g = jax.grad(lambda x: jnp.sum(block.apply(params, x)))(x)
  assert np.all(np.isfinite(g))


def test_forward_mode_agrees_with_reverse_mode():
  block, params, x = _block_and_params()
  t = jax.random.normal(jax.random.key(3), x.shape)
  f = lambda x: jnp.sum(block.apply(params, x) ** 2)
  _, jvp = jax.jvp(f, (x,), (t,))
  np.testing.assert_allclose(jvp, jnp.vdot(jax.grad(f)(x), t), rtol=1e-4)


@pytest.mark.parametrize("shape", [(3, 4, 5, 8), (3, 2, 2, 8)], ids=["N>c", "N<=c"])
def test_bf16_compute_stays_close_to_float32(shape):
  block, params, x = _block_and_params(shape=shape)
  y32 = block.apply(params, x)
  y16 = AttnBlock(groups=4, dtype=jnp.bfloat16).apply(params, x)
  assert y16.dtype == jnp.float32  # the residual keeps the input's dtype
  np.testing.assert_allclose(y16, y32, atol=0.1)


def test_skip_concatenation_is_concatenate_with_its_gradients():
  a = jax.random.normal(jax.random.key(0), (2, 3, 3, 5))
  b = jax.random.normal(jax.random.key(1), (2, 3, 3, 3)).astype(jnp.bfloat16)
  y = _concat_channels(a, b)
  assert y.dtype == jnp.float32
  np.testing.assert_array_equal(y, jnp.concatenate([a, b], axis=-1))
  w = jax.random.normal(jax.random.key(2), y.shape)
  loss = lambda f: lambda a, b: jnp.sum(f(a, b) * w)
  got = jax.grad(loss(_concat_channels), argnums=(0, 1))(a, b)
  want = jax.grad(loss(lambda a, b: jnp.concatenate([a, b], -1)), argnums=(0, 1))(a, b)
  for g, v in zip(got, want):
    assert g.dtype == v.dtype
    np.testing.assert_array_equal(g, v)
