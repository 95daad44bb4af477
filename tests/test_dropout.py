"""genjax's Dropout is flax's, bit for bit: the same bits, masks, outputs and gradients,
with the hash fused into the step (no loop in the compiled program)."""

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from genjax.nn import dropout
from genjax.nn.dropout import Dropout
from tests.conftest import run_python, xla_flags_with

SHAPES = [(), (0,), (7,), (3, 5, 4), (64, 16, 16, 32)]
KEYS = {
  "key": jax.random.key(0),
  "split": jax.random.split(jax.random.key(1))[1],
  "fold_in": jax.random.fold_in(jax.random.key(3), 11),
}


@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("key", KEYS.values(), ids=KEYS.keys())
def test_random_bits_are_jaxs(key, shape):
  ours = jax.jit(dropout.random_bits, static_argnums=1)(key, shape)
  np.testing.assert_array_equal(ours, jax.random.bits(key, shape, jnp.uint32))


@pytest.mark.parametrize("p", [0.9, 0.5, 0.1, 1 - 1e-7, 1e-7, 2.0**-23])
def test_keep_mask_is_bernoulli(p):
  for key in KEYS.values():
    ours = jax.jit(dropout.keep_mask, static_argnums=(1, 2))(key, p, (33, 65))
    np.testing.assert_array_equal(ours, jax.random.bernoulli(key, p, (33, 65)))


def test_the_mask_keeps_its_share():
  kept = float(dropout.keep_mask(jax.random.key(7), 0.9, (1 << 20,)).mean())
  assert abs(kept - 0.9) < 5 * np.sqrt(0.9 * 0.1 / (1 << 20))


class _Net(nn.Module):
  """Two dropouts in one module tree: each draws from its own path's rng."""

  layer: type

  @nn.compact
  def __call__(self, x, train: bool):
    x = self.layer(0.1, deterministic=not train)(nn.Dense(8, dtype=x.dtype)(x))
    return self.layer(0.5)(jnp.tanh(x), deterministic=not train)


@pytest.mark.parametrize("dtype", [jnp.float32, jnp.bfloat16])
def test_outputs_and_gradients_are_flaxs(dtype):
  x = jnp.asarray(np.random.default_rng(0).normal(size=(6, 5, 5, 3)), dtype)
  ours, theirs = _Net(Dropout), _Net(nn.Dropout)
  params = theirs.init(jax.random.key(0), x, train=False)
  for rng in (jax.random.key(2), jax.random.PRNGKey(2)):  # a typed key and raw key data
    rngs = {"dropout": rng}

    def grads(net):
      loss = lambda p, x: jnp.sum(net.apply(p, x, train=True, rngs=rngs).astype(jnp.float32))
      return net.apply(params, x, train=True, rngs=rngs), jax.grad(loss, (0, 1))(params, x)

    (y, g), (y_flax, g_flax) = grads(ours), grads(theirs)
    assert y.dtype == y_flax.dtype == dtype
    assert 0 < int((y == 0).sum()) < y.size
    np.testing.assert_array_equal(y, y_flax)
    jax.tree.map(np.testing.assert_array_equal, g, g_flax)
  np.testing.assert_array_equal(ours.apply(params, x, train=False), theirs.apply(params, x, False))


def test_rates_zero_and_one_and_other_key_kinds_are_flaxs():
  x = jnp.ones((4, 9))
  for rate in (0.0, 1.0, 0.3):
    for key in (jax.random.key(4), jax.random.key(4, impl="rbg")):
      out = Dropout(rate, deterministic=False).apply({}, x, rngs={"dropout": key})
      ref = nn.Dropout(rate, deterministic=False).apply({}, x, rngs={"dropout": key})
      np.testing.assert_array_equal(out, ref)


@pytest.mark.parametrize("layer", [Dropout, nn.Dropout], ids=["genjax", "flax"])
def test_the_mask_is_hashed_without_a_loop(layer):
  """What makes it faster on the CPU: there jax lowers the threefry hash as a while loop
  over the mask's two uint32 halves. (flax's rng for the module, a fold_in of one value,
  is hashed in such a loop either way.)"""
  step = jax.jit(lambda x, key: layer(0.1).apply({}, x, False, rngs={"dropout": key}))
  hlo = step.lower(jnp.ones((24, 40)), jax.random.key(0)).compile().as_text()
  loops = [line for line in hlo.splitlines() if " while(" in line]
  assert loops  # the fold_in's
  mask_loops = [line for line in loops if "u32[24,40]" in line]
  if jax.default_backend() == "cpu" and layer is nn.Dropout:
    assert mask_loops  # the test can see what it looks for
  else:
    assert not mask_loops


def test_a_batch_sharded_over_two_devices_draws_the_same_mask_without_communicating():
  """Data-parallel training: each device hashes its own shard's counters (XLA partitions
  the counters' iota), so the masks are one device's and nothing crosses devices."""
  code = """
import flax.linen as nn, jax, jax.numpy as jnp, numpy as np
from jax.sharding import NamedSharding, PartitionSpec
from genjax.nn.dropout import Dropout
shard = NamedSharding(jax.make_mesh((2,), ("data",)), PartitionSpec("data"))
x = np.arange(8 * 6 * 6 * 4, dtype=np.float32).reshape(8, 6, 6, 4)
key = jax.random.key(5)
jitted = lambda layer: jax.jit(
  lambda x, k: layer(0.3).apply({}, x, False, rngs={"dropout": k}), out_shardings=shard
)
ours = jitted(Dropout)(jax.device_put(x, shard), key)
np.testing.assert_array_equal(ours, jitted(nn.Dropout)(x, key))
hlo = jitted(Dropout).lower(jax.device_put(x, shard), key).compile().as_text()
assert not [op for op in ("all-gather", "all-reduce", "collective-permute") if op in hlo], hlo
"""
  run_python(code, XLA_FLAGS=xla_flags_with(2))
