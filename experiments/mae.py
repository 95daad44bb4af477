"""Masked autoencoder (He et al. 2021): mask most patches at random, encode the visible
ones, reconstruct the pixels of the masked ones. Not generative: no sampler; what it is
for is its encoder, whose features the linear_probe evaluator scores."""

import functools

import jax
import jax.numpy as jnp

from experiments import common, mae_figures
from genjax import config_checks as checks
from genjax import patches as P
from genjax.errors import ConfigError
from genjax.nn.vit import MAE
from genjax.train.experiment import Experiment
from genjax.train.optim import make_optimizer
from genjax.train.state import TrainState, ema_options


def patch_targets(images, patch_size: int, norm_pix_loss: bool):
  """The regression target per patch [B, N, p*p*C]: pixels, or per-patch normalised
  pixels (the paper's `norm_pix_loss`, which it finds gives better representations)."""
  target = P.patchify(images, patch_size)
  return P.normalize_patches(target) if norm_pix_loss else target


def masked_patch_mse(pred, target, mask):
  """Per example: the mean over masked patches of each patch's mean squared error.
  Visible patches (mask 0) contribute nothing, not even gradient."""
  per_patch = jnp.mean(jnp.square(pred - target), axis=-1)
  return jnp.sum(per_patch * mask, axis=-1) / jnp.sum(mask, axis=-1)


def mae_loss(apply_fn, params, batch, key, *, patch_size: int, keep: int, norm_pix_loss: bool):
  """Masked-patch MSE with a fresh random mask per example drawn from `key`.

  Every example masks the same number of patches, so the batch mean of the per-example
  losses equals MAE's sum(loss * mask) / sum(mask).
  """
  x = batch["image"]
  target = patch_targets(x, patch_size, norm_pix_loss)
  ids_keep, mask, ids_restore = P.random_masking(key, x.shape[0], target.shape[1], keep)
  pred = apply_fn(params, x, ids_keep, ids_restore)
  per_example = masked_patch_mse(pred, target, mask)
  return jnp.mean(per_example), {"mse": per_example, "pred": pred, "mask": mask}


def to_pixels(pred, images, patch_size: int, norm_pix_loss: bool):
  """Predicted patches back to pixel space [B, N, p*p*C]: a normalised-pixel prediction
  is un-normalised with the true patch's mean and std (how the paper visualises it)."""
  if not norm_pix_loss:
    return pred
  mean, std = P.patch_stats(P.patchify(images, patch_size))
  return pred * std + mean


def check_model(m, image_shape, section: str = "model") -> tuple[int, int]:
  """The patch grid of model settings `m` (the config section named `section`), or one
  clear error; shared with the classifier that fine-tunes this encoder."""
  checks.integer(f"{section}.patch_size", m.patch_size, 1)
  try:
    grid = P.grid_shape(image_shape, m.patch_size)
  except ValueError as e:
    raise ConfigError(f"{section}.patch_size: {e}") from None
  for name, width, heads in (
    ("width", m.width, m.num_heads),
    ("decoder_width", m.decoder_width, m.decoder_heads),
  ):
    checks.width(f"{section}.{name}", width)
    if width % 4:
      raise ConfigError(
        f"{section}.{name} must be divisible by 4 for the 2-D sin-cos "
        f"position embedding, not {width}."
      )
    if not isinstance(heads, int) or heads <= 0 or width % heads:
      raise ConfigError(
        f"{section}.{name}={width} must be a multiple of its number of heads ({heads})."
      )
  for name in ("depth", "decoder_depth"):
    checks.depth(f"{section}.{name}", m[name])
  checks.real(f"{section}.mlp_ratio", m.mlp_ratio, 0, low_open=True)
  return grid


def _check(config, image_shape):
  grid = check_model(config.model, image_shape)
  ratio = checks.real("objective.mask_ratio", config.objective.mask_ratio, 0, 1)
  try:
    return P.num_kept(grid[0] * grid[1], ratio)
  except ValueError as e:
    raise ConfigError(f"objective.mask_ratio: {e}") from None


def make_model(m, image_shape, dtype) -> MAE:
  """The MAE of model settings `m` (a config's `model`, or a fine-tune's `model.mae`)."""
  return MAE(
    image_shape=tuple(image_shape),
    patch_size=m.patch_size,
    width=m.width,
    depth=m.depth,
    num_heads=m.num_heads,
    decoder_width=m.decoder_width,
    decoder_depth=m.decoder_depth,
    decoder_heads=m.decoder_heads,
    mlp_ratio=m.mlp_ratio,
    dtype=dtype,
  )


def make(config, image_shape) -> Experiment:
  obj, p = config.objective, config.model.patch_size
  keep = _check(config, image_shape)
  model = make_model(config.model, image_shape, common.compute_dtype(config))
  tx = make_optimizer(config.optim, config.train.num_steps)
  apply_fn = lambda params, *a, **kw: model.apply({"params": params}, *a, **kw)
  loss_fn = functools.partial(
    mae_loss, apply_fn, patch_size=p, keep=keep, norm_pix_loss=obj.norm_pix_loss
  )

  def init(key):
    return TrainState.create(init_params(key), tx)

  def init_params(key):
    x = jnp.zeros((1,) + tuple(image_shape), jnp.float32)
    n = P.grid_shape(image_shape, p)
    ids = jnp.arange(n[0] * n[1])[None]
    return model.init(key, x, ids[:, :keep], ids)["params"]

  def train_step(state, batch, key):
    (loss, _), grads = jax.value_and_grad(loss_fn, has_aux=True)(state.params, batch, key)
    state = state.apply_gradients(grads, tx, **ema_options(config.train))
    return state, {"train/loss": loss}

  def eval_step(state, batch, key):
    _, aux = loss_fn(state.ema_params, batch, key)
    x = batch["image"]
    pixels = to_pixels(aux["pred"], x, p, obj.norm_pix_loss)
    return {
      "eval/loss": aux["mse"],
      "eval/masked_mse_pixels": masked_patch_mse(pixels, P.patchify(x, p), aux["mask"]),
    }

  def reconstruct(params, x, key, keep):
    """(mask [B, N], predicted pixels [B, N, p*p*C]) for a random mask keeping `keep`."""
    n = P.grid_shape(image_shape, p)
    ids_keep, mask, ids_restore = P.random_masking(key, x.shape[0], n[0] * n[1], keep)
    pred = apply_fn(params, x, ids_keep, ids_restore)
    return mask, to_pixels(pred, x, p, obj.norm_pix_loss)

  def figures(state, ctx):
    return mae_figures.make_all(
      state,
      ctx,
      keep=keep,
      reconstruct=jax.jit(reconstruct, static_argnums=3),
    )

  return Experiment(
    init=init,
    train_step=train_step,
    eval_step=eval_step,
    figures=figures,
    # Mean-pooled encoder output of the unmasked image: what the linear probe scores.
    features=lambda state, x: apply_fn(state.ema_params, x, method="features"),
  )
