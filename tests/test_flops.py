"""XLA's FLOP count of compiled programs, checked against hand counts."""

import flax.linen as nn
import jax
import jax.numpy as jnp
import pytest

from genjax.train import flops


def _flops(fn, *args):
  return flops.compiled_flops(jax.jit(fn).lower(*args).compile())


def test_a_dense_layer_is_two_flops_per_multiply_add_plus_its_bias():
  x = jnp.ones((128, 784))
  layer = nn.Dense(400)
  params = layer.init(jax.random.key(0), x)
  assert _flops(layer.apply, params, x) == 2 * 128 * 784 * 400 + 128 * 400


def test_a_padded_convolution_counts_only_the_taps_inside_the_image():
  x = jnp.ones((8, 28, 28, 16))
  conv = nn.Conv(32, (3, 3), padding="SAME")
  params = conv.init(jax.random.key(0), x)
  # Along each axis a 3-tap window has 3 * 28 - 2 = 82 taps inside a 28-pixel row.
  taps = (3 * 28 - 2) ** 2
  assert _flops(conv.apply, params, x) == 2 * 8 * 16 * 32 * taps + 8 * 28 * 28 * 32


def test_a_scan_is_counted_once_not_once_per_trip():
  x = jnp.ones((128, 784))
  layer = nn.Dense(400)
  params = layer.init(jax.random.key(0), x)

  def four(params, x):
    body = lambda total, _: (total + layer.apply(params, x).sum(), None)
    return jax.lax.scan(body, 0.0, None, length=4)[0]

  one = _flops(lambda p, x: layer.apply(p, x).sum(), params, x)
  assert _flops(four, params, x) == pytest.approx(one, rel=0.01)


def test_the_mlp_vae_step_is_three_forward_passes_of_matmuls(vae_smoke):
  """vae_digits: 784-500-500-(2+2) encoder, 2-500-500-784 decoder. Forward and backward
  cost three times the forward matmuls, less the gradient of the input (the first
  layer's): what remains is elementwise work and Adam, a few per cent."""
  import experiments
  from genjax.train import mesh as mesh_lib
  from genjax.train.loop import make_step_fn

  c = vae_smoke
  c.data.batch_size = 100
  exp = experiments.build(c)
  mesh = mesh_lib.make_mesh()
  state = jax.jit(exp.init)(jax.random.key(0))
  batch = {
    "image": jnp.zeros((100, 28, 28, 1), jnp.float32),
    "label": jnp.zeros((100,), jnp.int32),
  }
  compiled = make_step_fn(exp, mesh, jax.random.key(1)).lower(state, batch, 0).compile()
  dims = [(784, 500), (500, 500), (500, 4), (2, 500), (500, 500), (500, 784)]
  forward = sum(2 * a * b for a, b in dims)
  hand = 100 * (3 * forward - 2 * 784 * 500)
  assert hand <= flops.compiled_flops(compiled) <= 1.06 * hand


def test_peak_flops_by_device_kind():
  assert flops.peak_flops("NVIDIA H100 80GB HBM3") == 989e12
  assert flops.peak_flops("TPU v5 lite") == 197e12
  assert flops.peak_flops("TPU v5") == 459e12
  assert flops.peak_flops("cpu") is None
