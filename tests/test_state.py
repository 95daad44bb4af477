"""TrainState's parameter average: the decay it applies, with and without the warm-up."""

import jax.numpy as jnp
import numpy as np
import optax
import pytest

from genjax.train.state import TrainState


def _one_update(ema_decay, ema_warmup, step=0):
  # SGD at rate 1 on a gradient of -1 moves the parameter from 0 to 1.
  tx = optax.sgd(1.0)
  state = TrainState.create({"w": jnp.zeros(())}, tx).replace(step=jnp.int32(step))
  state = state.apply_gradients(
    {"w": -jnp.ones(())}, tx, ema_decay=ema_decay, ema_warmup=ema_warmup
  )
  return float(state.params["w"]), float(state.ema_params["w"])


@pytest.mark.parametrize(
  "decay, warmup, step, ema",
  [
    (0.999, False, 0, 0.001),  # (1 - decay) of the new value
    (0.999, True, 0, 0.9),  # decay min(0.999, 1/10)
    (0.999, True, 800, 9 / 810),  # min(0.999, 801/810): the window grows with t
    (0.999, True, 100_000, 0.001),  # (1 + t)/(10 + t) > 0.999 from t = 8,991 on
    (0.0, True, 0, 1.0),  # no averaging stays no averaging
  ],
)
def test_ema_decay_with_and_without_warmup(decay, warmup, step, ema):
  params, averaged = _one_update(decay, warmup, step)
  assert params == 1.0
  np.testing.assert_allclose(averaged, ema, rtol=1e-4)  # float32 decay
