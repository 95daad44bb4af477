"""A supervised digit classifier. It is the feature network of the Fréchet distance every
generative family reports, and it trains through the same loop as they do.

`model.backbone = "mae"` makes it the masked autoencoder's fine-tuning protocol (He et
al. 2021, Sec. 4): MAE's encoder under a linear head, trained end to end on labels,
starting from the encoder of the MAE run in `model.init_from` (or from scratch when
that is empty, the baseline the pre-training is worth measuring against)."""

import jax
import jax.numpy as jnp

from experiments import common, mae
from genjax import config_checks as checks
from genjax import data as gdata
from genjax import losses
from genjax.errors import CheckpointError, ConfigError
from genjax.nn.classifier import Classifier
from genjax.nn.vit import ViTClassifier
from genjax.train import checkpoint
from genjax.train.experiment import Experiment
from genjax.train.optim import make_optimizer
from genjax.train.state import TrainState, ema_options

BACKBONES = ("cnn", "mae")


def make_model(config, image_shape):
  m = config.model
  backbone = m.get("backbone", "cnn")
  if backbone not in BACKBONES:
    raise ConfigError(f"model.backbone must be one of {BACKBONES}, not {backbone!r}.")
  dtype = common.compute_dtype(config)
  checks.integer("model.num_classes", m.num_classes, 1)
  if backbone == "mae":
    mae.check_model(m.mae, image_shape, "model.mae")
    return ViTClassifier(mae=mae.make_model(m.mae, image_shape, dtype), num_classes=m.num_classes)
  checks.integer("model.feature_dim", m.feature_dim, 1)
  return Classifier(
    num_classes=m.num_classes,
    channels=common.int_tuple(config, "model.channels"),
    feature_dim=m.feature_dim,
    dtype=dtype,
  )


def pretrained_encoder(config):
  """The MAE parameters to start from, or None (from scratch)."""
  workdir = config.model.get("init_from", "")
  if not workdir:
    return None
  try:
    state, saved = checkpoint.load_trained(workdir, "MAE run to fine-tune")
  except CheckpointError as e:
    raise CheckpointError(
      f"{e} Train it first (experiments/configs/mae_digits.py), or set "
      "model.init_from to its workdir."
    ) from e
  if saved.get("family") != "mae":
    raise ConfigError(
      f"model.init_from={workdir!r} holds a {saved.get('family')!r} run, not an MAE one."
    )
  # Heads and the MLP ratio do not show in parameter shapes; compare them by name.
  for name in ("patch_size", "width", "depth", "num_heads", "mlp_ratio"):
    if saved["model"].get(name) != config.model.mae[name]:
      raise ConfigError(
        f"model.mae.{name}={config.model.mae[name]!r}, but the MAE run in "
        f"{workdir} used {saved['model'].get(name)!r}."
      )
  return state["ema_params"]


def cross_entropy_loss(apply_fn, params, batch, key):
  logits, _ = apply_fn(params, batch["image"], train=True, rngs={"dropout": key})
  nll = losses.softmax_cross_entropy(logits, batch["label"])
  return jnp.mean(nll), {"accuracy": jnp.argmax(logits, -1) == batch["label"]}


def _check_classes(config) -> None:
  # Labels at or above num_classes would be one-hot as all zeros: a silently wrong loss.
  spec = gdata.dataset_info(config.data.name, config.data.data_dir or None)
  if spec.num_classes and config.model.num_classes < spec.num_classes:
    raise ConfigError(
      f"model.num_classes={config.model.num_classes} is fewer than the "
      f"{spec.num_classes} classes of '{spec.name}'."
    )


def make(config, image_shape) -> Experiment:
  model = make_model(config, image_shape)
  _check_classes(config)
  tx = make_optimizer(config.optim, config.train.num_steps)
  apply_fn = lambda p, *a, **kw: model.apply({"params": p}, *a, **kw)
  pretrained = pretrained_encoder(config)

  def init(key):
    params = model.init(key, jnp.zeros((1,) + tuple(image_shape)))["params"]
    if pretrained is not None:
      params = {
        **params,
        "mae": checkpoint.graft(params["mae"], pretrained, f"MAE run in {config.model.init_from}"),
      }
    return TrainState.create(params, tx)

  def train_step(state, batch, key):
    (loss, aux), grads = jax.value_and_grad(
      lambda p: cross_entropy_loss(apply_fn, p, batch, key), has_aux=True
    )(state.params)
    state = state.apply_gradients(grads, tx, **ema_options(config.train))
    return state, {"train/loss": loss, "train/accuracy": jnp.mean(aux["accuracy"])}

  def eval_step(state, batch, key):
    del key
    logits, _ = apply_fn(state.ema_params, batch["image"])
    return {
      "eval/accuracy": (jnp.argmax(logits, -1) == batch["label"]).astype(jnp.float32),
      "eval/nll": losses.softmax_cross_entropy(logits, batch["label"]),
    }

  return Experiment(init=init, train_step=train_step, eval_step=eval_step)
