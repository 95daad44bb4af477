"""genjax's GroupNorm is flax's: same parameters, same values and gradients to rounding."""

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from genjax.nn.groupnorm import GroupNorm


def _pair(shape, groups, seed=0, **kw):
  """Both modules with the same perturbed parameters, on an input far from mean 0, sd 1."""
  rng = np.random.default_rng(seed)
  x = jnp.asarray(rng.normal(1.5, 3.0, shape), jnp.float32)
  ours, theirs = GroupNorm(groups, **kw), nn.GroupNorm(groups, **kw)
  params = ours.init(jax.random.key(0), x)
  assert jax.tree.structure(params) == jax.tree.structure(theirs.init(jax.random.key(0), x))
  params = jax.tree.map(lambda p: p + jnp.asarray(rng.normal(0, 0.3, p.shape), p.dtype), params)
  return x, params, ours, theirs


@pytest.mark.parametrize(
  "shape, groups",
  [((4, 7, 5, 16), 8), ((3, 6, 6, 12), 1), ((2, 9, 32), 4), ((5, 4, 4, 8), 8)],
  ids=["nhwc", "layernorm", "sequence", "instancenorm"],
)
def test_values_and_both_gradients_equal_flaxs(shape, groups):
  x, params, ours, theirs = _pair(shape, groups)
  np.testing.assert_allclose(
    jax.jit(ours.apply)(params, x), jax.jit(theirs.apply)(params, x), atol=2e-5
  )
  # A loss whose cotangent varies per element, so every term of the backward pass counts.
  weights = jnp.asarray(np.random.default_rng(1).normal(size=shape), jnp.float32)

  def grads(module):
    loss = lambda p, x: jnp.sum(jnp.tanh(module.apply(p, x)) * weights)
    return jax.jit(jax.grad(loss, argnums=(0, 1)))(params, x)

  for a, b in zip(jax.tree.leaves(grads(ours)), jax.tree.leaves(grads(theirs))):
    np.testing.assert_allclose(a, b, atol=1e-5, rtol=1e-5)


def test_each_group_comes_out_with_mean_zero_and_sd_one():
  x = jnp.asarray(np.random.default_rng(0).normal(3.0, 5.0, (2, 6, 6, 8)), jnp.float32)
  y = GroupNorm(4, use_scale=False, use_bias=False).apply({}, x)
  groups = y.reshape(2, 36, 4, 2).transpose(0, 2, 1, 3).reshape(2, 4, -1)
  np.testing.assert_allclose(groups.mean(-1), 0.0, atol=1e-5)
  np.testing.assert_allclose(groups.std(-1), 1.0, atol=1e-4)


def test_a_constant_group_gives_the_bias_and_finite_gradients():
  """Variance 0 (E[x^2] - E[x]^2 may round below 0): clamped, so no NaN either way."""
  x = jnp.full((2, 3, 3, 4), 0.7, jnp.float32)
  module = GroupNorm(2)
  params = {"params": {"scale": jnp.full((4,), 2.0), "bias": jnp.arange(4.0)}}
  y = module.apply(params, x)
  np.testing.assert_allclose(y, jnp.broadcast_to(jnp.arange(4.0), y.shape), atol=1e-3)
  g = jax.jit(jax.grad(lambda p, x: jnp.sum(module.apply(p, x) ** 2), argnums=(0, 1)))(params, x)
  assert all(bool(jnp.all(jnp.isfinite(leaf))) for leaf in jax.tree.leaves(g))


def test_bfloat16_compute_keeps_float32_statistics_and_returns_bfloat16():
  x, params, ours, theirs = _pair((2, 8, 8, 16), 4, dtype=jnp.bfloat16)
  y = ours.apply(params, x.astype(jnp.bfloat16))
  assert y.dtype == jnp.bfloat16
  ref = theirs.apply(params, x.astype(jnp.bfloat16))
  np.testing.assert_allclose(y.astype(jnp.float32), ref.astype(jnp.float32), atol=0.05)
  dx = jax.grad(lambda x: jnp.sum(ours.apply(params, x).astype(jnp.float32)))(
    x.astype(jnp.bfloat16)
  )
  assert dx.dtype == jnp.bfloat16


def test_groups_that_do_not_divide_the_channels_are_refused():
  with pytest.raises(ValueError, match="3 groups do not divide 8 channels"):
    GroupNorm(3).init(jax.random.key(0), jnp.ones((1, 2, 2, 8)))
