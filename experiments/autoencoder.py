"""Autoencoders: basic (Hinton & Salakhutdinov 2006), sparse (an L1 penalty on the code),
denoising (Vincent et al. 2008) and deep convolutional, one objective with three knobs.

E(w) = ½ Σ‖y(x̃, w) − x‖² + λ Σ_k |z_k|, where x̃ is x corrupted by objective.corruption
(x̃ = x for the basic and sparse AE), z the code of x̃ and y its decoding: the target is
always the clean x.
"""

import functools

import jax
import jax.numpy as jnp

from experiments import autoencoder_figures, common
from genjax import config_checks as checks
from genjax import corruption as corruption_lib
from genjax import losses
from genjax.errors import ConfigError
from genjax.nn.autoencoder import CODE_ACTIVATIONS, OUTPUT_ACTIVATIONS, Autoencoder
from genjax.train.experiment import Experiment
from genjax.train.optim import make_optimizer
from genjax.train.state import TrainState, ema_options


def code_l1(z):
  """Σ_k |z_k| per example: the sparsity penalty, whose gradient on the code is sign(z)."""
  return jnp.sum(jnp.abs(z.reshape(z.shape[0], -1)), axis=-1)


def code_sparsity(z, threshold: float):
  """Fraction of the code's units with |z_k| < threshold, per example."""
  return jnp.mean((jnp.abs(z) < threshold).reshape(z.shape[0], -1), axis=-1)


def autoencoder_loss(
  apply_fn, params, batch, key, *, corruption: str, corruption_level: float, sparsity_weight: float
):
  """Batch mean of ½Σ‖decode(encode(x̃)) − x‖² + λΣ|z|, x̃ = corrupt(x), target the clean x."""
  x = batch["image"]
  x_in = corruption_lib.corrupt(key, x, corruption, corruption_level)
  z = apply_fn(params, x_in, method="encode")
  rec = losses.half_squared_error(apply_fn(params, z, method="decode"), x)
  l1 = code_l1(z)
  return jnp.mean(rec + sparsity_weight * l1), {"rec_error": rec, "code_l1": l1, "code": z}


def _check(config):
  m, obj = config.model, config.objective
  if m.backbone not in ("mlp", "conv"):
    raise ConfigError(f"model.backbone must be 'mlp' or 'conv', not {m.backbone!r}.")
  if m.activation not in CODE_ACTIVATIONS[1:]:
    raise ConfigError(
      f"model.activation must be one of {CODE_ACTIVATIONS[1:]}, not {m.activation!r}."
    )
  if m.code_activation not in CODE_ACTIVATIONS:
    raise ConfigError(
      f"model.code_activation must be one of {CODE_ACTIVATIONS}, not {m.code_activation!r}."
    )
  if m.output_activation not in OUTPUT_ACTIVATIONS:
    raise ConfigError(
      f"model.output_activation must be one of {OUTPUT_ACTIVATIONS}, not {m.output_activation!r}."
    )
  if m.code_dim <= 0:
    raise ConfigError(f"model.code_dim must be positive, not {m.code_dim}.")
  for name in ("sparsity_weight", "sparsity_threshold"):
    checks.real(f"objective.{name}", obj[name], 0)
  for prefix in ("", "eval_"):
    checks.real(f"objective.{prefix}corruption_level", obj[prefix + "corruption_level"])
    try:
      corruption_lib.check(obj[prefix + "corruption"], obj[prefix + "corruption_level"])
    except ValueError as e:
      raise ConfigError(f"objective.{prefix}corruption: {e}.") from None


def make(config, image_shape) -> Experiment:
  _check(config)
  m, obj = config.model, config.objective
  if m.backbone == "conv":
    common.halvings(
      "model.channels", common.int_tuple(config, "model.channels", non_empty=True), image_shape
    )
  model = Autoencoder(
    image_shape=tuple(image_shape),
    code_dim=m.code_dim,
    backbone=m.backbone,
    hidden=common.int_tuple(config, "model.hidden"),
    channels=common.int_tuple(config, "model.channels"),
    activation=m.activation,
    code_activation=m.code_activation,
    output_activation=m.output_activation,
    dtype=common.compute_dtype(config),
  )
  tx = make_optimizer(config.optim, config.train.num_steps)
  apply_fn = lambda p, *a, **kw: model.apply({"params": p}, *a, **kw)
  loss_fn = functools.partial(
    autoencoder_loss,
    apply_fn,
    corruption=obj.corruption,
    corruption_level=obj.corruption_level,
    sparsity_weight=obj.sparsity_weight,
  )
  encode = lambda p, x: apply_fn(p, x, method="encode")
  decode = lambda p, z: apply_fn(p, z, method="decode")

  def init(key):
    params = model.init(key, jnp.zeros((1,) + tuple(image_shape), jnp.float32))["params"]
    return TrainState.create(params, tx)

  def train_step(state, batch, key):
    (loss, aux), grads = jax.value_and_grad(loss_fn, has_aux=True)(state.params, batch, key)
    state = state.apply_gradients(grads, tx, **ema_options(config.train))
    return state, {
      "train/loss": loss,
      "train/rec_error": jnp.mean(aux["rec_error"]),
      "train/code_l1": jnp.mean(aux["code_l1"]),
      "train/sparsity": jnp.mean(code_sparsity(aux["code"], obj.sparsity_threshold)),
    }

  def eval_step(state, batch, key):
    # The corrupted-input error uses the eval corruption for every variant, with the
    # loop's fixed eval key, so a basic AE and a DAE are scored on the same noisy images.
    params, x = state.ema_params, batch["image"]
    z = encode(params, x)
    sq = jnp.square(decode(params, z) - x).reshape(x.shape[0], -1)
    x_bad = corruption_lib.corrupt(key, x, obj.eval_corruption, obj.eval_corruption_level)
    return {
      "eval/rec_error": 0.5 * jnp.sum(sq, axis=-1),
      "eval/mse": jnp.mean(sq, axis=-1),
      "eval/rec_error_corrupted": losses.half_squared_error(
        decode(params, encode(params, x_bad)), x
      ),
      "eval/sparsity": code_sparsity(z, obj.sparsity_threshold),
    }

  def sample(state, key, n):
    """Decodes codes z ~ N(0, I). An autoencoder has no prior: nothing makes its codes
    fill N(0, I), so these images are poor, and showing that is the point."""
    z = jax.random.normal(key, (n, m.code_dim))
    return decode(state.ema_params, z)

  def figures(state, ctx):
    return autoencoder_figures.make_all(state, ctx, encode=jax.jit(encode), decode=jax.jit(decode))

  return Experiment(
    init=init,
    train_step=train_step,
    eval_step=eval_step,
    sample=sample,
    figures=figures,
    features=lambda state, x: encode(state.ema_params, x),  # the code, for the linear probe
  )
