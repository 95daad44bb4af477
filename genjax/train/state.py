"""The train state of one network: parameters, optimiser state, EMA, step.

Families with several networks (a GAN's generator and discriminator) keep a dict of
these; the loop treats any pytree alike.
"""

from typing import Any

import flax.struct
import jax
import jax.numpy as jnp
import optax


@flax.struct.dataclass
class TrainState:
  step: jax.Array
  params: Any
  opt_state: Any
  ema_params: Any
  # Non-trainable variables such as BatchNorm statistics; empty for most models.
  model_state: Any = flax.struct.field(default_factory=dict)

  @classmethod
  def create(cls, params, tx: optax.GradientTransformation, model_state=None):
    return cls(
      step=jnp.zeros((), jnp.int32),
      params=params,
      opt_state=tx.init(params),
      # A copy, not an alias: the state is donated to the jitted step.
      ema_params=jax.tree.map(jnp.copy, params),
      model_state=model_state if model_state is not None else {},
    )

  def apply_gradients(
    self, grads, tx: optax.GradientTransformation, *, ema_decay: float, model_state=None
  ):
    updates, opt_state = tx.update(grads, self.opt_state, self.params)
    params = optax.apply_updates(self.params, updates)
    ema = optax.incremental_update(params, self.ema_params, 1.0 - ema_decay)
    return self.replace(
      step=self.step + 1,
      params=params,
      opt_state=opt_state,
      ema_params=ema,
      model_state=self.model_state if model_state is None else model_state,
    )
