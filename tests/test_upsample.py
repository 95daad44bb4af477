"""ConvTransposeUp computes exactly what flax.linen.ConvTranspose computes, gradients too."""

import functools

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from genjax.nn.upsample import (
  ConvTransposeUp,
  conv_transpose_phases,
  conv_transpose_subpixel,
  depth_to_space,
  nearest_upsampled,
  space_to_depth,
)

# (kernel, stride, padding): the decoder cases, k = s and k < s edge cases, explicit padding in
# flax's convention (padding of the stride-dilated input, not PyTorch's), negative padding.
DECODER = [(4, 2, "SAME"), (4, 2, "VALID"), (3, 2, "SAME"), (3, 2, "VALID")]
CONFIGS = DECODER + [
  (2, 2, "SAME"),
  (2, 2, "VALID"),
  (5, 2, "SAME"),
  (1, 2, "SAME"),
  (1, 2, "VALID"),
  (3, 3, "SAME"),
  (4, 3, "VALID"),
  (3, 1, "SAME"),
  (4, 2, 1),
  (3, 2, ((1, 2), (2, 0))),
  (4, 2, (0, (3, 1))),
  (5, 3, ((-1, 2), (2, -1))),
]
SIZES = [(7, 8), (8, 7)]  # odd and even sides, non-square

# Compile time dominates these tests; XLA's optimisation passes do not change what is computed.
_jit = functools.partial(jax.jit, compiler_options={"xla_backend_optimization_level": 0})


# Inputs and params come from numpy: eager jax ops (layer.init, jax.random) compile once per
# new shape, which would cost more than the tests themselves.
def _normal(seed, shape, scale=1.0):
  return np.float32(np.random.default_rng(seed).normal(size=shape) * scale)


def _random_params(layer, x, seed=0):
  shapes = jax.eval_shape(layer.init, jax.random.key(0), x)["params"]
  leaves, tree = jax.tree.flatten(shapes)
  return jax.tree.unflatten(
    tree, [_normal(seed + i, leaf.shape, 0.3) for i, leaf in enumerate(leaves)]
  )


def _both(k, s, padding, features=5, **kw):
  args = dict(features=features, kernel_size=(k, k), strides=(s, s), padding=padding, **kw)
  return nn.ConvTranspose(**args), ConvTransposeUp(**args)


def _close(a, b, atol=1e-5):
  assert a.shape == b.shape and a.dtype == b.dtype
  np.testing.assert_allclose(a, b, atol=atol, rtol=1e-5)


@pytest.mark.parametrize("k,s,padding", CONFIGS, ids=str)
def test_outputs_equal_flax(k, s, padding):
  ref, ours = _both(k, s, padding)
  xs = [_normal(i, (2, *size, 3)) for i, size in enumerate(SIZES)]
  params = _random_params(ref, xs[0])
  for x in xs:  # same parameter names and shapes
    assert jax.eval_shape(ours.init, jax.random.key(0), x) == jax.eval_shape(
      ref.init, jax.random.key(0), x
    )
  lax_padding = nn.linear.canonicalize_padding(padding, 2)

  @_jit
  def outputs(params, xs):
    return [
      (
        ref.apply({"params": params}, x),
        ours.apply({"params": params}, x),
        conv_transpose_subpixel(x, params["kernel"], (s, s), lax_padding) + params["bias"],
      )
      for x in xs
    ]

  for y_ref, y, y_sub in outputs(params, xs):
    _close(y, y_ref)
    _close(y_sub, y_ref)


@pytest.mark.parametrize("k,s,padding", DECODER, ids=str)
def test_gradients_equal_flax(k, s, padding):
  ref, ours = _both(k, s, padding)
  xs = [_normal(i, (2, *size, 3)) for i, size in enumerate(SIZES)]
  params = _random_params(ref, xs[0])
  cots = [_normal(9, jax.eval_shape(ref.apply, {"params": params}, x).shape) for x in xs]

  @_jit
  def value_and_grads(params, xs):
    def one(layer, x, cot):
      loss = lambda p, x: jnp.vdot(layer.apply({"params": p}, x), cot)
      return jax.value_and_grad(loss, argnums=(0, 1))(params, x)

    return [(one(ref, x, c), one(ours, x, c)) for x, c in zip(xs, cots)]

  for (v_ref, (gp_ref, gx_ref)), (v, (gp, gx)) in value_and_grads(params, xs):
    np.testing.assert_allclose(v, v_ref, rtol=1e-4)
    _close(gx, gx_ref)
    _close(gp["kernel"], gp_ref["kernel"], atol=1e-4)
    _close(gp["bias"], gp_ref["bias"], atol=1e-4)


def test_same_init_as_flax():
  x = np.ones((1, 7, 7, 4), np.float32)
  ref, ours = _both(4, 2, "SAME", features=6)
  p_ref, p = _jit(lambda key: (ref.init(key, x), ours.init(key, x)))(jax.random.key(0))
  assert jax.tree.structure(p) == jax.tree.structure(p_ref)
  jax.tree.map(np.testing.assert_array_equal, p, p_ref)
  assert p["params"]["kernel"].shape == (4, 4, 4, 6) and p["params"]["bias"].shape == (6,)


def test_other_flax_attributes_and_batch_dims():
  mask = (np.arange(4 * 4 * 3 * 5).reshape(4, 4, 3, 5) % 3 > 0).astype(np.float32)
  cases = [
    (dict(transpose_kernel=True), (2, 6, 7, 3)),
    (dict(kernel_dilation=(2, 2)), (2, 6, 7, 3)),
    (dict(use_bias=False), (2, 6, 7, 3)),
    (dict(mask=mask), (2, 6, 7, 3)),
    ({}, (6, 5, 3)),
    ({}, (2, 3, 6, 5, 3)),
  ]  # no batch dim; two batch dims
  layers = [_both(4, 2, "SAME", **kw) for kw, _ in cases]
  xs = [_normal(i, shape) for i, (_, shape) in enumerate(cases)]
  params = [_random_params(ref, x) for (ref, _), x in zip(layers, xs)]

  @_jit
  def outputs(params, xs):
    return [
      (ref.apply({"params": p}, x), ours.apply({"params": p}, x))
      for (ref, ours), p, x in zip(layers, params, xs)
    ]

  for y_ref, y in outputs(params, xs):
    _close(y, y_ref)


def test_dtype_and_param_dtype():
  x = _normal(0, (2, 7, 7, 3))
  ref, ours = _both(4, 2, "SAME", dtype=jnp.bfloat16)
  params = _random_params(ref, x)
  assert params["kernel"].dtype == np.float32
  y_ref, y = _jit(lambda p, x: (ref.apply({"params": p}, x), ours.apply({"params": p}, x)))(
    params, x
  )
  assert y.dtype == y_ref.dtype == jnp.bfloat16
  np.testing.assert_allclose(np.float32(y), np.float32(y_ref), atol=0.05, rtol=0.02)
  p16 = jax.eval_shape(
    ConvTransposeUp(5, (4, 4), strides=(2, 2), param_dtype=jnp.bfloat16).init, jax.random.key(0), x
  )["params"]
  assert p16["kernel"].dtype == p16["bias"].dtype == jnp.bfloat16


def test_depth_to_space():
  x = np.arange(2 * 3 * 4 * 12).reshape(2, 3, 4, 12)  # C = 3 per block of 2x2
  y = depth_to_space(x, 2)
  assert y.shape == (2, 6, 8, 3)
  for i in range(2):
    for j in range(2):  # output pixel (2h + i, 2w + j, c) is input channel (2i + j) * 3 + c
      np.testing.assert_array_equal(
        y[:, i::2, j::2, :], x[..., (2 * i + j) * 3 : (2 * i + j + 1) * 3]
      )
  np.testing.assert_array_equal(space_to_depth(y, 2), x)
  assert depth_to_space(np.zeros((1, 2, 2, 6)), (1, 3)).shape == (1, 2, 6, 2)


def test_unsupported_and_empty():
  x = jax.ShapeDtypeStruct((1, 4, 4, 2), jnp.float32)
  with pytest.raises(ValueError):
    jax.eval_shape(
      ConvTransposeUp(3, (3, 3), strides=(2, 2), padding="CIRCULAR").init, jax.random.key(0), x
    )
  with pytest.raises(ValueError, match="empty output"):
    jax.eval_shape(
      functools.partial(conv_transpose_phases, strides=(1, 1), padding=[(-3, -3), (0, 0)]),
      x,
      jax.ShapeDtypeStruct((5, 5, 2, 3), jnp.float32),
    )


# nearest_upsampled: flax's Conv on the input repeated f times along H and W, computed
# at the input's resolution. (kernel, factor, padding).
UPSAMPLED = [
  (3, 2, "SAME"),  # the DDPM U-Net's
  (3, 2, "VALID"),
  (1, 2, "SAME"),
  (2, 2, "SAME"),
  (4, 2, "SAME"),
  (5, 3, "SAME"),
  (3, 3, "VALID"),
  (3, 1, "SAME"),
  (3, 2, ((2, 0), (1, 3))),
]


def _upsampled_pair(k, factor, padding, dtype=None, **kw):
  args = dict(features=6, kernel_size=(k, k), padding=padding, dtype=dtype, **kw)
  return nn.Conv(**args), nn.Conv(**args, conv_general_dilated=nearest_upsampled(factor))


def _repeated(x, factor, axes=(1, 2)):
  for axis in axes:
    x = jnp.repeat(x, factor, axis=axis)
  return x


@pytest.mark.parametrize("k,factor,padding", UPSAMPLED, ids=str)
def test_nearest_upsampled_conv_is_the_conv_of_the_repeated_input(k, factor, padding):
  x = _normal(1, (2, 5, 6, 4))
  plain, ours = _upsampled_pair(k, factor, padding)
  params = _random_params(plain, _repeated(x, factor))
  assert jax.tree.structure(params) == jax.tree.structure(
    jax.eval_shape(ours.init, jax.random.key(0), x)["params"]
  )
  ref = lambda p, x: plain.apply({"params": p}, _repeated(x, factor))
  new = lambda p, x: ours.apply({"params": p}, x)
  _close(_jit(new)(params, x), _jit(ref)(params, x))
  dy = _normal(2, _jit(ref)(params, x).shape)
  grads = lambda f: _jit(jax.grad(lambda p, x: jnp.sum(f(p, x) * dy), (0, 1)))(params, x)
  jax.tree.map(functools.partial(_close, atol=1e-4), grads(new), grads(ref))
  # forward mode: plain jax, no custom derivative rule
  tangent = _normal(3, x.shape)
  _close(
    _jit(lambda x, t: jax.jvp(lambda x: new(params, x), (x,), (t,))[1])(x, tangent),
    _jit(lambda x, t: jax.jvp(lambda x: ref(params, x), (x,), (t,))[1])(x, tangent),
  )


def test_nearest_upsampled_conv_in_bf16_and_other_forms():
  x = _normal(4, (3, 4, 4, 8))
  plain, ours = _upsampled_pair(3, 2, "SAME", dtype=jnp.bfloat16)
  params = _random_params(plain, _repeated(x, 2))
  out = ours.apply({"params": params}, x)
  ref = plain.apply({"params": params}, _repeated(x, 2))
  assert out.dtype == ref.dtype == jnp.bfloat16
  np.testing.assert_allclose(np.float32(out), np.float32(ref), atol=0.05, rtol=0.02)
  # strides, dilation and 1-D inputs take the repeat and the convolution as they are
  for kw, shape, axes in [
    (dict(strides=2), (2, 5, 6, 4), (1, 2)),
    (dict(kernel_dilation=2), (2, 5, 6, 4), (1, 2)),
    ({}, (2, 7, 4), (1,)),
  ]:
    x = _normal(5, shape)
    args = dict(features=3, kernel_size=(3,) * (len(shape) - 2), **kw)
    plain, ours = nn.Conv(**args), nn.Conv(**args, conv_general_dilated=nearest_upsampled(2))
    params = _random_params(plain, _repeated(x, 2, axes))
    _close(
      ours.apply({"params": params}, x), plain.apply({"params": params}, _repeated(x, 2, axes))
    )
  with pytest.raises(ValueError, match="positive integer"):
    nearest_upsampled(0)
