"""FLOP counts against hand counts: the model count from the jaxpr (what MFU is taken
against, the same on every backend) and XLA:CPU's cost analysis of compiled programs."""

import flax.linen as nn
import jax
import jax.numpy as jnp
import pytest

from genjax.train import flops


def _xla_cpu_flops(fn, *args):
  """XLA's count of `fn` compiled for the CPU, whatever the default backend: on XLA:GPU
  the count leaves out cuDNN's convolutions (genjax/train/flops.py)."""
  with jax.default_device(jax.devices("cpu")[0]):
    return flops.compiled_flops(jax.jit(fn).lower(*args).compile())


def _dense(batch=128):
  x = jnp.ones((batch, 784))
  layer = nn.Dense(400)
  return layer, layer.init(jax.random.key(0), x), x


def _conv(module, shape=(8, 28, 28, 16)):
  x = jax.random.normal(jax.random.key(1), shape)
  return module, module.init(jax.random.key(0), x), x


def test_a_dense_layer_is_two_flops_per_multiply_add():
  layer, params, x = _dense()
  assert flops.model_flops(layer.apply, params, x) == 2 * 128 * 784 * 400
  # XLA adds one per element for the bias.
  assert _xla_cpu_flops(layer.apply, params, x) == 2 * 128 * 784 * 400 + 128 * 400


def test_a_padded_convolution_counts_only_the_taps_inside_the_image():
  conv, params, x = _conv(nn.Conv(32, (3, 3), padding="SAME"))
  # Along each axis a 3-tap window has 3 * 28 - 2 = 82 taps inside a 28-pixel row.
  taps = (3 * 28 - 2) ** 2
  assert flops.model_flops(conv.apply, params, x) == 2 * 8 * 16 * 32 * taps
  assert _xla_cpu_flops(conv.apply, params, x) == 2 * 8 * 16 * 32 * taps + 8 * 28 * 28 * 32


def test_both_gradients_of_a_same_convolution_cost_what_its_forward_pass_costs():
  conv, params, x = _conv(nn.Conv(32, (3, 3), padding="SAME"))
  loss = lambda p, x: jnp.sum(conv.apply(p, x) ** 2)
  forward = flops.model_flops(loss, params, x)
  both = flops.model_flops(jax.grad(loss, argnums=(0, 1)), params, x)
  assert both == 3 * forward


@pytest.mark.parametrize(
  "module",
  [
    nn.Conv(32, (3, 3), strides=(2, 2), padding=((1, 1), (1, 1))),
    nn.ConvTranspose(8, (4, 4), strides=(2, 2), padding="SAME"),
    nn.Conv(32, (3, 3), feature_group_count=4, padding="VALID", kernel_dilation=2),
    nn.Conv(32, (5, 5), input_dilation=2, padding=((3, 1), (0, 2))),
  ],
  ids=["strided", "transposed", "grouped-dilated", "input-dilated"],
)
def test_the_model_count_of_a_convolutions_gradients_is_xla_cpus_less_its_elementwise_work(
  module,
):
  """Strides, lhs and rhs dilation, groups and odd padding, forward and both gradients
  (the weight gradient is a convolution with batch groups): XLA:CPU counts the same taps
  plus one per element of elementwise work, under 4 % here."""
  conv, params, x = _conv(module)
  step = jax.grad(lambda p, x: jnp.sum(conv.apply(p, x) ** 2), argnums=(0, 1))
  model, xla = flops.model_flops(step, params, x), _xla_cpu_flops(step, params, x)
  assert model < xla < 1.04 * model


def test_a_scan_counts_its_body_once_per_trip_and_a_cond_its_costliest_branch():
  layer, params, x = _dense()
  one = lambda p, x: layer.apply(p, x).sum()

  def four(params, x):
    body = lambda total, _: (total + one(params, x), None)
    return jax.lax.scan(body, 0.0, None, length=4)[0]

  def either(params, x):
    return jax.lax.cond(x[0, 0] > 0, one, lambda p, x: 2.0 * one(p, x[:64]), params, x)

  assert flops.model_flops(four, params, x) == 4 * flops.model_flops(one, params, x)
  assert flops.model_flops(either, params, x) == flops.model_flops(one, params, x)
  assert flops.model_flops(jax.jit(four), params, x) == 4 * flops.model_flops(one, params, x)
  # XLA's own count reads a loop's body once.
  assert _xla_cpu_flops(four, params, x) == pytest.approx(_xla_cpu_flops(one, params, x), 0.01)


def test_the_mlp_vae_step_is_three_forward_passes_of_matmuls(vae_smoke):
  """vae_digits: 784-500-500-(2+2) encoder, 2-500-500-784 decoder. Forward and backward
  cost three times the forward matmuls, less the gradient of the input (the first
  layer's). XLA:CPU counts that and the elementwise work and Adam, a few per cent."""
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
  step = make_step_fn(exp, mesh, jax.random.key(1))
  dims = [(784, 500), (500, 500), (500, 4), (2, 500), (500, 500), (500, 784)]
  forward = sum(2 * a * b for a, b in dims)
  hand = 100 * (3 * forward - 2 * 784 * 500)
  assert flops.model_flops(step, state, batch, 0) == hand
  if jax.default_backend() == "cpu":
    assert hand <= flops.compiled_flops(step.lower(state, batch, 0).compile()) <= 1.06 * hand


def test_peak_flops_by_device_kind():
  assert flops.peak_flops("NVIDIA H100 80GB HBM3") == 989e12
  assert flops.peak_flops("TPU v5 lite") == 197e12
  assert flops.peak_flops("TPU v5") == 459e12
  assert flops.peak_flops("cpu") is None
