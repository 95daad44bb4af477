"""launch/threefry.py: jax's threefry hash lowered unrolled on the CPU draws the same bits
as jax's rolled loop, in one fused pass (the dropout mask of the U-Net: 0.1x the time)."""

import jax
import numpy as np
import pytest

from launch import threefry
from tests.conftest import run_python

# Bits, uniforms, normals and a dropout mask from split and folded keys, printed whole.
DRAWS = """
import launch
import jax, jax.numpy as jnp, numpy as np
key = jax.random.fold_in(jax.random.key(7), 3)
a, b = jax.random.split(key)
f = jax.jit(lambda a, b: (
  jax.random.bits(a, (5, 7)),
  jax.random.uniform(b, (33,)),
  jax.random.normal(a, (4, 3, 2)),
  jax.random.bernoulli(b, 0.9, (2, 28, 28, 3)),
))
text = f.lower(a, b).as_text()
print("while" in text)
np.set_printoptions(threshold=10**9)
for x in f(a, b):
  print(np.asarray(x).view(np.uint8).tolist())
"""


def _draws(**env) -> list[str]:
  return run_python(DRAWS, unset=["GENJAX_THREEFRY"], **env).stdout.split("\n")


@pytest.mark.skipif(not threefry.applies({}), reason="registered for the measured jax only")
def test_unrolled_threefry_draws_the_same_bits_without_a_loop():
  unrolled, rolled = _draws(), _draws(GENJAX_THREEFRY="rolled")
  assert unrolled[0] == "False" and rolled[0] == "True"  # jax's own lowering: a loop
  assert unrolled[1:] == rolled[1:]


def test_it_is_left_alone_where_the_user_says_so():
  assert not threefry.applies({"GENJAX_THREEFRY": "rolled"})
  assert threefry.applies({}) == (jax.__version__.split(".")[:2] == list(threefry.MEASURED_ON))


def test_this_process_lowers_it_unrolled():
  """Importing `launch` (tests/conftest.py does) registered it for this process."""
  if not threefry.applies():
    pytest.skip("registered for the measured jax only")
  text = jax.jit(lambda k: jax.random.uniform(k, (8,))).lower(jax.random.key(0)).as_text()
  assert "while" not in text
  assert np.isfinite(
    np.asarray(jax.jit(lambda k: jax.random.normal(k, (3,)))(jax.random.key(1)))
  ).all()
