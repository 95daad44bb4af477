"""Autoregressive models (PixelCNN, Gated PixelCNN, Row LSTM, Diagonal BiLSTM; van den
Oord et al. 2016a, 2016b): the exact NLL -log p(x) = -sum_i log p(x_i | x_<i), and
sequential sampling, naive or fast (genjax/autoregressive.py)."""

import functools
import math

import jax
import jax.numpy as jnp

from experiments import autoregressive_figures, common
from genjax import autoregressive as ar
from genjax import config_checks as checks
from genjax import subpixel
from genjax.errors import ConfigError
from genjax.eval import likelihood
from genjax.nn.pixelcnn import GatedPixelCNN, PixelCNN
from genjax.nn.pixelrnn import DiagonalBiLSTM, RowLSTM
from genjax.train.experiment import Experiment
from genjax.train.optim import make_optimizer
from genjax.train.state import TrainState, ema_options

ARCHS = {
  "pixelcnn": PixelCNN,
  "gated_pixelcnn": GatedPixelCNN,
  "row_lstm": RowLSTM,
  "diagonal_bilstm": DiagonalBiLSTM,
}
SAMPLERS = ("fast", "naive")


def nll_loss(apply_fn, dist, params, batch, key, *, conditional: bool):
  """The mean exact NLL in nats per image; aux["nll"] per example. apply_fn gives the
  parameters [B, H, W, C, K] of `dist` (genjax/subpixel.py) for every sub-pixel."""
  del key  # the objective is deterministic
  label = batch["label"] if conditional else None
  nll = -dist.log_prob(apply_fn(params, batch["image"], label), batch["image"])
  return jnp.mean(nll), {"nll": nll}


def make_dist(m):
  if m.likelihood not in subpixel.NAMES:
    raise ConfigError(
      f"model.likelihood must be one of {sorted(subpixel.NAMES)}, not {m.likelihood!r}."
    )
  num_mix = m.get("num_mix", 5)  # absent from workdirs written before the mixture existed
  if m.likelihood == "logistic_mixture" and num_mix <= 0:
    raise ConfigError(f"model.num_mix must be positive, not {num_mix}.")
  if m.likelihood == "logistic_mixture":
    checks.width("model.num_mix", num_mix)  # it widens the masked output layer
  return subpixel.make(m.likelihood, num_mix)


def build_model(config, image_shape):
  m = config.model
  if m.arch not in ARCHS:
    raise ConfigError(f"model.arch must be one of {sorted(ARCHS)}, not {m.arch!r}.")
  if m.conditional and m.arch != "gated_pixelcnn":
    raise ConfigError("model.conditional is only supported by model.arch='gated_pixelcnn'.")
  for name in ("hidden", "num_layers", "head_hidden", "first_kernel", "kernel"):
    if m[name] <= 0:
      raise ConfigError(f"model.{name} must be positive, not {m[name]}.")
  if m.first_kernel % 2 == 0 or m.kernel % 2 == 0:
    raise ConfigError("model.first_kernel and model.kernel must be odd.")
  checks.depth("model.num_layers", m.num_layers)
  for name in ("hidden", "head_hidden"):
    checks.width(f"model.{name}", m[name])
  if m.conditional:
    checks.integer("model.num_classes", m.num_classes, 1)
  colors = image_shape[-1]
  if m.hidden % colors:
    raise ConfigError(
      f"model.hidden={m.hidden} must be a multiple of the {colors} colour "
      "channels (one channel group per colour)."
    )
  kw = dict(
    num_colors=colors,
    out_per_color=make_dist(m).num_params,
    hidden=m.hidden,
    num_layers=m.num_layers,
    first_kernel=m.first_kernel,
    head_hidden=m.head_hidden,
    dtype=common.compute_dtype(config),
  )
  if m.arch in ("pixelcnn", "gated_pixelcnn"):
    kw["kernel"] = m.kernel
  if m.arch == "gated_pixelcnn":
    kw["num_classes"] = m.num_classes if m.conditional else 0
  return ARCHS[m.arch](**kw)


def make_samplers(model, image_shape, dist):
  """{"naive": sampler, "fast": sampler} over parameters (see genjax/autoregressive.py)."""

  def method(name):
    return lambda params, *args: model.apply({"params": params}, *args, method=name)

  naive = ar.make_naive_sampler(
    lambda p, x, label: model.apply({"params": p}, x, label), image_shape, dist
  )
  fast = ar.make_fast_sampler(
    method("init_cache"), method("start_row"), method("pixel_step"), image_shape, dist
  )
  return {"naive": naive, "fast": fast}


def make(config, image_shape) -> Experiment:
  m = config.model
  if config.sample.sampler not in SAMPLERS:
    raise ConfigError(f"sample.sampler must be one of {SAMPLERS}, not {config.sample.sampler!r}.")
  if (
    m.likelihood == "bernoulli"
    and config.data.binarize == "none"
    and ("binarized" not in config.data.name)
  ):
    common.warn_once(
      "A Bernoulli output on grey-level data gives a cross-entropy, not a "
      "likelihood; set data.binarize."
    )
  image_shape = tuple(image_shape)
  model = build_model(config, image_shape)
  tx = make_optimizer(config.optim, config.train.num_steps)
  apply_fn = lambda p, x, label: model.apply({"params": p}, x, label)
  dist = make_dist(m)
  loss_fn = functools.partial(nll_loss, apply_fn, dist, conditional=m.conditional)
  samplers = make_samplers(model, image_shape, dist)
  sampler = samplers[config.sample.sampler]

  def init(key):
    x = jnp.zeros((1,) + image_shape, jnp.float32)
    label = jnp.zeros((1,), jnp.int32) if m.conditional else None
    return TrainState.create(model.init(key, x, label)["params"], tx)

  def train_step(state, batch, key):
    (loss, _), grads = jax.value_and_grad(loss_fn, has_aux=True)(state.params, batch, key)
    state = state.apply_gradients(grads, tx, **ema_options(config.train))
    return state, {
      "train/loss": loss,
      "train/bits_per_dim": likelihood.bits_per_dim(loss, image_shape),
    }

  def eval_step(state, batch, key):
    _, aux = loss_fn(state.ema_params, batch, key)
    return likelihood.nll_metrics(aux["nll"], image_shape)

  def labels_for(n):
    # Conditional samples cycle through the classes, so a grid shows every one.
    return jnp.arange(n, dtype=jnp.int32) % m.num_classes if m.conditional else None

  def sample(state, key, n):
    return sampler(state.ema_params, key, n, label=labels_for(n))

  def sample_class(state, key, labels):
    return sampler(state.ema_params, key, labels.shape[0], label=labels)

  def figures(state, ctx):
    return autoregressive_figures.make_all(
      state, ctx, sampler=sampler, conditional=m.conditional, num_classes=m.num_classes
    )

  return Experiment(
    init=init,
    train_step=train_step,
    eval_step=eval_step,
    sample=sample,
    sample_class=sample_class if m.conditional else None,
    figures=figures,
    binary_samples=m.likelihood == "bernoulli",
    network_evals_per_sample=math.prod(image_shape),
  )
