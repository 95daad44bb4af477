"""Variational autoencoder (Kingma & Welling 2013): the ELBO with a closed-form KL, the
reparameterisation trick, and the importance-weighted log p(x) of Burda et al. (2015).

Decoders: a Bernoulli (binarised data), a Gaussian (a density on [-1, 1] pixels, logged
under names ending in CONTINUOUS_SUFFIX), or an 8-bit head from genjax/subpixel.py whose
bound is on the discrete log-likelihood of 8-bit images, in PixelCNN's and DDPM's units."""

import functools

import jax
import jax.numpy as jnp

from experiments import common, vae_figures
from genjax import config_checks as checks
from genjax import losses, subpixel
from genjax.errors import ConfigError
from genjax.eval import likelihood as lik
from genjax.nn.vae import VAE
from genjax.train.experiment import Experiment
from genjax.train.optim import make_optimizer
from genjax.train.state import TrainState, ema_options

EIGHT_BIT = ("logistic_mixture", "softmax")  # genjax/subpixel.py's names
LIKELIHOODS = ("bernoulli", "gaussian") + EIGHT_BIT
# A density on [-1, 1] pixels is no probability of 8-bit images: its bounds carry this
# suffix so they are never read as the discrete NLLs the other families report.
CONTINUOUS_SUFFIX = "_continuous"


def metric_suffix(likelihood: str) -> str:
  return CONTINUOUS_SUFFIX if likelihood == "gaussian" else ""


def out_params(likelihood: str, num_mix: int = 5) -> int:
  """Decoder outputs per image channel."""
  if likelihood in EIGHT_BIT:
    return subpixel.make(likelihood, num_mix).num_params
  return {"bernoulli": 1, "gaussian": 2}[likelihood]


def _per_subpixel(out, k: int):
  """[B, H, W, C·K] -> [B, H, W, C, K]: channel c's parameters are outputs cK..cK+K−1."""
  return out.reshape(out.shape[:-1] + (out.shape[-1] // k, k))


def decoder_log_prob(out, x, likelihood: str, num_mix: int = 5):
  """log p(x|z) per example; `out` is the decoder output, `x` in [-1, 1]."""
  if likelihood in EIGHT_BIT:
    dist = subpixel.make(likelihood, num_mix)
    return dist.log_prob(_per_subpixel(out, dist.num_params), x)
  if likelihood == "bernoulli":
    return losses.bernoulli_log_prob(out, (x + 1.0) / 2.0)
  mean, raw = jnp.split(out, 2, axis=-1)
  return losses.gaussian_log_prob(x, mean, _bounded_logvar(raw))


def decoder_mean(out, likelihood: str, num_mix: int = 5):
  """The decoder's expected image in [-1, 1] (what figures show, as in the paper)."""
  if likelihood in EIGHT_BIT:
    dist = subpixel.make(likelihood, num_mix)
    return eight_bit_mean(dist, _per_subpixel(out, dist.num_params))
  if likelihood == "bernoulli":
    return 2.0 * jax.nn.sigmoid(out) - 1.0
  return jnp.clip(jnp.split(out, 2, axis=-1)[0], -1.0, 1.0)


def eight_bit_mean(dist, params):
  """E[x] of a genjax/subpixel.py 8-bit distribution; params [..., K] -> [...]."""
  if isinstance(dist, subpixel.Softmax):
    centres = lik.from_bins(jnp.arange(lik.NUM_BINS))
    return jnp.sum(jax.nn.softmax(params, axis=-1) * centres, axis=-1)
  w, mean, log_scale = dist.split(params)
  s = jnp.exp(log_scale)
  # The 8-bit value is clip(X, −1, 1) rounded to a bin centre, so the closed form of
  # E[clip(X, −1, 1)] = −1 + ∫_{−1}^{1} P(X > t) dt is its mean to half a grey level.
  clipped = -1.0 + s * (jax.nn.softplus((mean + 1.0) / s) - jax.nn.softplus((mean - 1.0) / s))
  return jnp.sum(jax.nn.softmax(w, axis=-1) * clipped, axis=-1)


def _bounded_logvar(raw):
  # A floor on the decoder variance keeps the Gaussian density from diverging on
  # pixels that are constant in the data (the digits' empty borders).
  return -7.0 + jax.nn.softplus(raw + 7.0)


def elbo_loss(apply_fn, params, batch, key, *, likelihood: str, beta: float, num_mix: int = 5):
  """-(E_q[log p(x|z)] - beta KL(q(z|x) || p(z))), one reparameterised sample per image."""
  x = batch["image"]
  mean, logvar = apply_fn(params, x, method="encode")
  z = losses.reparameterize(key, mean, logvar)
  rec = decoder_log_prob(apply_fn(params, z, method="decode"), x, likelihood, num_mix)
  kl = losses.gaussian_kl(mean, logvar)
  loss = -jnp.mean(rec - beta * kl)
  return loss, {"elbo": rec - kl, "rec": rec, "kl": kl}


def importance_weights(
  apply_fn, params, x, key, *, likelihood: str, k: int, chunk: int, num_mix: int = 5
):
  """log w_i = log p(x|z_i) + log p(z_i) - log q(z_i|x), z_i ~ q(z|x): [k, B]."""
  mean, logvar = apply_fn(params, x, method="encode")

  def chunk_weights(key):
    z = mean + jnp.exp(0.5 * logvar) * jax.random.normal(key, (chunk,) + mean.shape)
    flat = z.reshape((-1, z.shape[-1]))
    out = apply_fn(params, flat, method="decode")
    xs = jnp.broadcast_to(x, (chunk,) + x.shape).reshape((-1,) + x.shape[1:])
    log_px_z = decoder_log_prob(out, xs, likelihood, num_mix).reshape(chunk, -1)
    log_pz = losses.standard_normal_log_prob(flat).reshape(chunk, -1)
    log_qz = losses.gaussian_log_prob(
      flat, jnp.tile(mean, (chunk, 1)), jnp.tile(logvar, (chunk, 1))
    ).reshape(chunk, -1)
    return log_px_z + log_pz - log_qz, log_px_z

  log_w, log_px_z = jax.lax.map(chunk_weights, jax.random.split(key, k // chunk))
  return log_w.reshape(k, -1), log_px_z.reshape(k, -1), losses.gaussian_kl(mean, logvar)


def eval_metrics(log_w, log_px_z, kl, *, likelihood: str, image_shape) -> dict:
  """Per-example metrics from importance_weights' outputs: the ELBO and the IW bound in
  nats per image, and for an 8-bit head both in bits per dimension too."""
  sfx = metric_suffix(likelihood)
  rec = jnp.mean(log_px_z, axis=0)
  elbo = rec - kl
  iw_nll = -losses.log_mean_exp(log_w, axis=0)
  metrics = {
    f"eval/elbo{sfx}": elbo,
    f"eval/rec{sfx}": rec,
    "eval/kl": kl,
    f"eval/iw_nll{sfx}": iw_nll,
  }
  if likelihood in EIGHT_BIT:
    metrics["eval/bits_per_dim"] = lik.bits_per_dim(iw_nll, image_shape)
    metrics["eval/bits_per_dim_elbo"] = lik.bits_per_dim(-elbo, image_shape)
  return metrics


def make(config, image_shape) -> Experiment:
  m, obj = config.model, config.objective
  if obj.likelihood not in LIKELIHOODS:
    raise ConfigError(
      f"objective.likelihood must be one of {sorted(LIKELIHOODS)}, not {obj.likelihood!r}."
    )
  checks.integer("objective.iw_samples", obj.iw_samples, 1)
  checks.integer("objective.iw_batch", obj.iw_batch, 1)
  if obj.iw_samples % obj.iw_batch:
    raise ConfigError("objective.iw_samples must be a multiple of objective.iw_batch.")
  checks.real("objective.beta", obj.beta, 0)
  checks.integer("model.latent_dim", m.latent_dim, 1)
  common.choice("model.backbone", m.backbone, ("mlp", "conv"))
  common.activation("model.activation", m.activation)
  if m.backbone == "conv":
    common.halvings(
      "model.channels", common.int_tuple(config, "model.channels", non_empty=True), image_shape
    )
  num_mix = m.get("num_mix", 5)  # absent from workdirs written before the 8-bit heads
  if obj.likelihood == "logistic_mixture" and num_mix <= 0:
    raise ConfigError(f"model.num_mix must be positive, not {num_mix}.")
  if obj.likelihood in EIGHT_BIT and config.data.binarize != "none":
    raise ConfigError(
      f"objective.likelihood={obj.likelihood!r} models 8-bit grey levels, "
      f"so data.binarize must be 'none', not {config.data.binarize!r}."
    )
  if obj.likelihood == "bernoulli" and config.data.binarize == "none":
    common.warn_once(
      "A Bernoulli decoder on grey-level data gives a cross-entropy, not a "
      "likelihood; set data.binarize for a proper bound."
    )
  model = VAE(
    image_shape=tuple(image_shape),
    latent_dim=m.latent_dim,
    backbone=m.backbone,
    hidden=common.int_tuple(config, "model.hidden"),
    channels=common.int_tuple(config, "model.channels"),
    activation=m.activation,
    out_params=out_params(obj.likelihood, num_mix),
    dtype=common.compute_dtype(config),
  )
  tx = make_optimizer(config.optim, config.train.num_steps)
  apply_fn = lambda p, *a, **kw: model.apply({"params": p}, *a, **kw)
  loss_fn = functools.partial(
    elbo_loss, apply_fn, likelihood=obj.likelihood, beta=obj.beta, num_mix=num_mix
  )
  # Samples, reconstructions and figures show the decoder's mean for every head, as the
  # paper's Bernoulli figures do: a draw would add pixel noise that hides what z encodes.
  mean_of = functools.partial(decoder_mean, likelihood=obj.likelihood, num_mix=num_mix)
  sfx = metric_suffix(obj.likelihood)

  def init(key):
    x = jnp.zeros((1,) + tuple(image_shape), jnp.float32)
    params = model.init(key, x, jnp.zeros((1, m.latent_dim)))["params"]
    return TrainState.create(params, tx)

  def train_step(state, batch, key):
    (loss, aux), grads = jax.value_and_grad(loss_fn, has_aux=True)(state.params, batch, key)
    state = state.apply_gradients(grads, tx, **ema_options(config.train))
    return state, {
      "train/loss": loss,
      f"train/elbo{sfx}": jnp.mean(aux["elbo"]),
      "train/kl": jnp.mean(aux["kl"]),
      f"train/rec{sfx}": jnp.mean(aux["rec"]),
    }

  def eval_step(state, batch, key):
    log_w, log_px_z, kl = importance_weights(
      apply_fn,
      state.ema_params,
      batch["image"],
      key,
      likelihood=obj.likelihood,
      k=obj.iw_samples,
      chunk=obj.iw_batch,
      num_mix=num_mix,
    )
    return eval_metrics(log_w, log_px_z, kl, likelihood=obj.likelihood, image_shape=image_shape)

  def sample(state, key, n):
    z = jax.random.normal(key, (n, m.latent_dim))
    return mean_of(apply_fn(state.ema_params, z, method="decode"))

  def reconstruct(params, x):
    mean, _ = apply_fn(params, x, method="encode")
    return mean_of(apply_fn(params, mean, method="decode"))

  def figures(state, ctx):
    return vae_figures.make_all(
      state,
      ctx,
      encode=jax.jit(lambda p, x: apply_fn(p, x, method="encode")[0]),
      decode=jax.jit(lambda p, z: mean_of(apply_fn(p, z, method="decode"))),
      reconstruct=jax.jit(reconstruct),
      sample=jax.jit(sample, static_argnums=2),
      metric_suffix=sfx,
    )

  return Experiment(
    init=init, train_step=train_step, eval_step=eval_step, sample=sample, figures=figures
  )
