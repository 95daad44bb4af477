"""A supervised digit classifier. It is the feature network of the Fréchet distance every
generative family reports, and it trains through the same loop as they do."""
import jax
import jax.numpy as jnp

from genjax import losses
from genjax.nn.classifier import Classifier
from genjax.train.experiment import Experiment
from genjax.train.optim import make_optimizer
from genjax.train.state import TrainState
from experiments import common


def make_model(config) -> Classifier:
  m = config.model
  return Classifier(num_classes=m.num_classes, channels=common.int_tuple(config, "model.channels"),
                    feature_dim=m.feature_dim, dtype=common.compute_dtype(config))


def cross_entropy_loss(apply_fn, params, batch, key):
  logits, _ = apply_fn(params, batch["image"], train=True, rngs={"dropout": key})
  nll = losses.softmax_cross_entropy(logits, batch["label"])
  return jnp.mean(nll), {"accuracy": jnp.argmax(logits, -1) == batch["label"]}


def make(config, image_shape) -> Experiment:
  model = make_model(config)
  tx = make_optimizer(config.optim, config.train.num_steps)
  apply_fn = lambda p, *a, **kw: model.apply({"params": p}, *a, **kw)

  def init(key):
    params = model.init(key, jnp.zeros((1,) + tuple(image_shape)))["params"]
    return TrainState.create(params, tx)

  def train_step(state, batch, key):
    (loss, aux), grads = jax.value_and_grad(
        lambda p: cross_entropy_loss(apply_fn, p, batch, key), has_aux=True)(state.params)
    state = state.apply_gradients(grads, tx, ema_decay=config.train.ema_decay)
    return state, {"train/loss": loss, "train/accuracy": jnp.mean(aux["accuracy"])}

  def eval_step(state, batch, key):
    del key
    logits, _ = apply_fn(state.ema_params, batch["image"])
    return {"eval/accuracy": (jnp.argmax(logits, -1) == batch["label"]).astype(jnp.float32),
            "eval/nll": losses.softmax_cross_entropy(logits, batch["label"])}

  return Experiment(init=init, train_step=train_step, eval_step=eval_step)
