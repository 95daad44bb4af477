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
  ((2, 7, 6, 8), (1, 1), (1, 1), "SAME", 3),  # pointwise, narrowing: the barrier order
  ((2, 9, 9, 32), (3, 3), (1, 1), "SAME", 1),  # narrow (9 * 1 <= 32): product + shifts
  ((2, 9, 8, 32), (3, 3), (1, 1), "VALID", 3),  # narrow, VALID
  ((2, 7, 6, 20), (2, 3), (1, 1), ((1, 0), (-1, 2)), 2),  # narrow, asymmetric and cropping
  ((2, 9, 9, 8), (3, 3), (1, 1), "SAME", 1),  # 9 > 8: not narrow, lax
]

NARROW = ((2, 6, 5, 12), (3, 3, 12, 1))  # kh * kw * Cout <= Cin
NARROWING_POINTWISE = ((2, 3, 3, 4), (1, 1, 4, 3))


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


@pytest.mark.parametrize(
  "x_shape,w_shape", [((2, 3, 3, 4), (1, 1, 4, 5)), NARROWING_POINTWISE, NARROW]
)
def test_higher_derivatives(x_shape, w_shape):
  """Grads of grads (R1 penalties) and forward mode agree with lax's convolution: the
  fast forms are plain jax, with no custom derivative rule to lose either."""
  x = jax.random.normal(jax.random.key(0), x_shape)
  w = jax.random.normal(jax.random.key(1), w_shape)
  f = lambda conv: lambda x: jnp.sum(jax.grad(lambda x: jnp.sum(conv(x, w) ** 2))(x) ** 2)
  lax_conv = lambda x, w: jax.lax.conv_general_dilated(
    x, w, (1, 1), "SAME", dimension_numbers=("NHWC", "HWIO", "NHWC")
  )
  fast_conv = lambda x, w: fastconv.conv_general_dilated(
    x, w, (1, 1), "SAME", dimension_numbers=("NHWC", "HWIO", "NHWC")
  )
  want = jax.grad(f(lax_conv))(x)  # up to 3e4 beside cancellations: atol by the scale
  np.testing.assert_allclose(
    jax.grad(f(fast_conv))(x), want, rtol=1e-4, atol=1e-6 * float(jnp.abs(want).max())
  )
  tangents = jnp.ones_like(x), jnp.ones_like(w)
  np.testing.assert_allclose(
    jax.jvp(fast_conv, (x, w), tangents)[1],
    jax.jvp(lax_conv, (x, w), tangents)[1],
    rtol=1e-5,
    atol=1e-5,
  )


def _primitives(fn, *args):
  return {e.primitive.name for e in jax.make_jaxpr(jax.grad(fn, (0, 1)))(*args).eqns}


def test_fast_forms_are_the_ones_compiled():
  """The speed comes from the form of the backward pass, which values cannot show: a
  narrow convolution's step holds no convolution at all, and a narrowing pointwise
  layer's weight gradient sits behind the barrier that keeps XLA's faster product order."""
  conv = lambda x, w: jnp.sum(
    jnp.sin(fastconv.conv_general_dilated(x, w, (1, 1), "SAME", dimension_numbers=fastconv._DN))
  )
  args = lambda xs, ws: (jnp.ones(xs), jnp.ones(ws))
  narrow = _primitives(conv, *args(*NARROW))
  assert "conv_general_dilated" not in narrow and "dot_general" in narrow
  assert "optimization_barrier" in _primitives(conv, *args(*NARROWING_POINTWISE))
  widening = _primitives(conv, *args((2, 3, 3, 3), (1, 1, 3, 4)))
  assert "optimization_barrier" not in widening and "conv_general_dilated" not in widening
  wide = _primitives(conv, *args((2, 6, 5, 8), (3, 3, 8, 1)))
  assert "conv_general_dilated" in wide


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


def test_narrow_conv_in_bfloat16_rounds_once():
  """bf16 inputs: the narrow form accumulates in float32 and rounds once, as the
  convolution does, so it stays within one bf16 rounding of the float32 result."""
  x = jax.random.normal(jax.random.key(0), NARROW[0]).astype(jnp.bfloat16)
  w = jax.random.normal(jax.random.key(1), NARROW[1]).astype(jnp.bfloat16)
  conv = lambda f, x, w: f(x, w, (1, 1), "SAME", dimension_numbers=fastconv._DN)
  got = conv(fastconv.conv_general_dilated, x, w)
  exact = conv(jax.lax.conv_general_dilated, x.astype(jnp.float32), w.astype(jnp.float32))
  assert got.dtype == jnp.bfloat16
  np.testing.assert_allclose(got.astype(jnp.float32), exact, rtol=2**-8, atol=1e-6)


def test_a_kernel_larger_than_the_padded_input_goes_to_lax():
  """No room for a single window: lax's empty output. The shifted sum's slices would
  not give it (negative stops count from the end: a 7x7 kernel on 4x4 slices 0:-2)."""
  x, w = jnp.ones((1, 4, 4, 49)), jnp.ones((7, 7, 49, 1))
  conv = lambda f: f(x, w, (1, 1), "VALID", dimension_numbers=fastconv._DN)
  assert conv(fastconv.conv_general_dilated).shape == conv(jax.lax.conv_general_dilated).shape
  assert conv(jax.lax.conv_general_dilated).shape == (1, 0, 0, 1)
