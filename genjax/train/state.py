"""The train state of one network: parameters, optimiser state, EMA, step.

Families with several networks (a GAN's generator and discriminator) keep a dict of
these; the loop treats any pytree alike.
"""

from typing import Any

import flax.struct
import jax
import jax.numpy as jnp
import optax


def ema_options(train_config) -> dict:
  """apply_gradients' EMA arguments from config.train (ema_decay, ema_warmup)."""
  return dict(
    ema_decay=train_config.ema_decay, ema_warmup=bool(train_config.get("ema_warmup", False))
  )


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
    self,
    grads,
    tx: optax.GradientTransformation,
    *,
    ema_decay: float,
    ema_warmup: bool = False,
    model_state=None,
  ):
    updates, opt_state = tx.update(grads, self.opt_state, self.params)
    params = optax.apply_updates(self.params, updates)
    decay = ema_decay
    if ema_warmup and ema_decay > 0:
      # TensorFlow's ExponentialMovingAverage(num_updates): min(decay, (1 + t) / (10 + t))
      # after t updates, so an average read after few steps is not mostly the
      # initialisation (0.999 keeps 45 % of it after 800 steps; this, 0.5 %).
      t = self.step.astype(jnp.float32)
      decay = jnp.minimum(ema_decay, (1.0 + t) / (10.0 + t))
    ema = optax.incremental_update(params, self.ema_params, 1.0 - decay)
    return self.replace(
      step=self.step + 1,
      params=params,
      opt_state=opt_state,
      ema_params=ema,
      model_state=self.model_state if model_state is None else model_state,
    )
