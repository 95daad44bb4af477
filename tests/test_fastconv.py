"""genjax.nn.fastconv: the same values and gradients as flax's nn.Conv / lax, and the same
parameters, so that the models that use it keep their results and checkpoints."""

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from genjax.nn import fastconv, pixelcnn

CASES = [
  # input shape, kernel, strides, padding, features
  ((2, 7, 6, 3), (1, 1), (1, 1), "SAME", 4),  # pointwise: a matrix product
  ((2, 7, 6, 3), (1, 1), (1, 1), ((0, 0), (0, 0)), 4),  # pointwise, explicit padding
  ((2, 7, 6, 3), (1, 1), (1, 1), ((1, 0), (0, 1)), 4),  # 1x1 but padded: lax
  ((2, 7, 6, 3), (1, 1), (2, 2), "VALID", 4),  # 1x1 but strided: lax
  ((2, 9, 9, 3), (3, 3), (1, 1), "SAME", 4),
  ((2, 8, 8, 3), (4, 4), (2, 2), "SAME", 5),
  ((2, 9, 9, 3), (3, 3), (2, 2), "VALID", 4),
  ((2, 7, 6, 3), (2, 3), (1, 1), ((1, 0), (-1, 2)), 4),  # negative padding crops
  ((3, 5, 4), (3,), (1,), "SAME", 2),  # 1-D: falls through to lax
]


def _grads(module, params, x):
  loss = lambda p, x: jnp.sum(jnp.sin(module.apply(p, x)))
  return jax.grad(loss, (0, 1))(params, x)


@pytest.mark.parametrize("shape,kernel,strides,padding,features", CASES)
def test_conv_matches_flax(shape, kernel, strides, padding, features):
  x = jax.random.normal(jax.random.key(0), shape)
  ref = nn.Conv(features, kernel, strides, padding)
  fast = fastconv.Conv(features, kernel, strides, padding)
  params = ref.init(jax.random.key(1), x)
  assert jax.tree.map(jnp.shape, fast.init(jax.random.key(1), x)) == jax.tree.map(jnp.shape, params)
  np.testing.assert_allclose(fast.apply(params, x), ref.apply(params, x), rtol=1e-5, atol=1e-5)
  for a, b in zip(
    jax.tree.leaves(_grads(fast, params, x)), jax.tree.leaves(_grads(ref, params, x))
  ):
    np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)


def test_conv_keeps_flax_auto_names():
  class Net(nn.Module):
    conv: type

    @nn.compact
    def __call__(self, x):
      return self.conv(3, (1, 1))(self.conv(3, (3, 3))(x))

  x = jnp.ones((1, 4, 4, 2))
  names = lambda conv: jax.tree.map(jnp.shape, Net(conv).init(jax.random.key(0), x))
  assert names(fastconv.Conv) == names(nn.Conv)


def test_pointwise_higher_derivatives():
  """Grads of grads (R1 penalties) and forward mode agree with lax's convolution."""
  x = jax.random.normal(jax.random.key(0), (2, 3, 3, 4))
  w = jax.random.normal(jax.random.key(1), (1, 1, 4, 5))
  f = lambda conv: lambda x: jnp.sum(jax.grad(lambda x: jnp.sum(conv(x, w) ** 2))(x) ** 2)
  lax_conv = lambda x, w: jax.lax.conv_general_dilated(
    x, w, (1, 1), "SAME", dimension_numbers=("NHWC", "HWIO", "NHWC")
  )
  fast_conv = lambda x, w: fastconv.conv_general_dilated(
    x, w, (1, 1), "SAME", dimension_numbers=("NHWC", "HWIO", "NHWC")
  )
  np.testing.assert_allclose(
    jax.grad(f(fast_conv))(x), jax.grad(f(lax_conv))(x), rtol=1e-4, atol=1e-4
  )
  tangent = jnp.ones_like(x)
  np.testing.assert_allclose(
    jax.jvp(lambda x: fast_conv(x, w), (x,), (tangent,))[1],
    jax.jvp(lambda x: lax_conv(x, w), (x,), (tangent,))[1],
    rtol=1e-5,
    atol=1e-5,
  )


def test_masked_conv_matches_lax():
  """PixelCNN's MaskedConv (a pointwise and a spatial one) against the plain lax conv."""
  x = jax.random.normal(jax.random.key(0), (2, 6, 6, 4))
  for conv in (pixelcnn.MaskedConv(4), pixelcnn.MaskedConv(4, (2, 3), 1, "A", num_colors=2)):
    params = conv.init(jax.random.key(1), x)

    def ref(p, x):
      p = p["params"]
      mask = pixelcnn.causal_mask(*conv.kernel, conv.left, 4, 4, conv.mask, conv.num_colors)
      y = jax.lax.conv_general_dilated(
        conv.pad(x), p["kernel"] * mask, (1, 1), "VALID", dimension_numbers=("NHWC", "HWIO", "NHWC")
      )
      return y + p["bias"]

    loss = lambda f: lambda p, x: jnp.sum(jnp.sin(f(p, x)))
    np.testing.assert_allclose(conv.apply(params, x), ref(params, x), rtol=1e-5, atol=1e-5)
    got = jax.grad(loss(conv.apply), (0, 1))(params, x)
    want = jax.grad(loss(ref), (0, 1))(params, x)
    for a, b in zip(jax.tree.leaves(got), jax.tree.leaves(want)):
      np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)
