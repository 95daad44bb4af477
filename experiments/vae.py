"""Variational autoencoder (Kingma & Welling 2013): the ELBO with a closed-form KL, the
reparameterisation trick, and the importance-weighted log p(x) of Burda et al. (2015)."""
import functools

import jax
import jax.numpy as jnp

from genjax import losses
from genjax.errors import ConfigError
from genjax.nn.vae import VAE
from genjax.train.experiment import Experiment
from genjax.train.optim import make_optimizer
from genjax.train.state import TrainState
from experiments import common
from experiments import vae_figures

_LIKELIHOODS = {"bernoulli": 1, "gaussian": 2}


def decoder_log_prob(out, x, likelihood: str):
  """log p(x|z) per example; `out` is the decoder output, `x` in [-1, 1]."""
  if likelihood == "bernoulli":
    return losses.bernoulli_log_prob(out, (x + 1.0) / 2.0)
  mean, raw = jnp.split(out, 2, axis=-1)
  return losses.gaussian_log_prob(x, mean, _bounded_logvar(raw))


def decoder_mean(out, likelihood: str):
  """The decoder's expected image in [-1, 1] (what figures show, as in the paper)."""
  if likelihood == "bernoulli":
    return 2.0 * jax.nn.sigmoid(out) - 1.0
  return jnp.clip(jnp.split(out, 2, axis=-1)[0], -1.0, 1.0)


def _bounded_logvar(raw):
  # A floor on the decoder variance keeps the Gaussian density from diverging on
  # pixels that are constant in the data (the digits' empty borders).
  return -7.0 + jax.nn.softplus(raw + 7.0)


def elbo_loss(apply_fn, params, batch, key, *, likelihood: str, beta: float):
  """-(E_q[log p(x|z)] - beta KL(q(z|x) || p(z))), one reparameterised sample per image."""
  x = batch["image"]
  mean, logvar = apply_fn(params, x, method="encode")
  z = losses.reparameterize(key, mean, logvar)
  rec = decoder_log_prob(apply_fn(params, z, method="decode"), x, likelihood)
  kl = losses.gaussian_kl(mean, logvar)
  loss = -jnp.mean(rec - beta * kl)
  return loss, {"elbo": rec - kl, "rec": rec, "kl": kl}


def importance_weights(apply_fn, params, x, key, *, likelihood: str, k: int, chunk: int):
  """log w_i = log p(x|z_i) + log p(z_i) - log q(z_i|x), z_i ~ q(z|x): [k, B]."""
  mean, logvar = apply_fn(params, x, method="encode")

  def chunk_weights(key):
    z = mean + jnp.exp(0.5 * logvar) * jax.random.normal(key, (chunk,) + mean.shape)
    flat = z.reshape((-1, z.shape[-1]))
    out = apply_fn(params, flat, method="decode")
    xs = jnp.broadcast_to(x, (chunk,) + x.shape).reshape((-1,) + x.shape[1:])
    log_px_z = decoder_log_prob(out, xs, likelihood).reshape(chunk, -1)
    log_pz = losses.standard_normal_log_prob(flat).reshape(chunk, -1)
    log_qz = losses.gaussian_log_prob(
        flat, jnp.tile(mean, (chunk, 1)), jnp.tile(logvar, (chunk, 1))).reshape(chunk, -1)
    return log_px_z + log_pz - log_qz, log_px_z

  log_w, log_px_z = jax.lax.map(chunk_weights, jax.random.split(key, k // chunk))
  return log_w.reshape(k, -1), log_px_z.reshape(k, -1), losses.gaussian_kl(mean, logvar)


def make(config, image_shape) -> Experiment:
  m, obj = config.model, config.objective
  if obj.likelihood not in _LIKELIHOODS:
    raise ConfigError(f"objective.likelihood must be one of {sorted(_LIKELIHOODS)}, "
                      f"not {obj.likelihood!r}.")
  if obj.iw_samples % obj.iw_batch:
    raise ConfigError("objective.iw_samples must be a multiple of objective.iw_batch.")
  if obj.likelihood == "bernoulli" and config.data.binarize == "none":
    common.warn_once("A Bernoulli decoder on grey-level data gives a cross-entropy, not a "
                     "likelihood; set data.binarize for a proper bound.")
  model = VAE(image_shape=tuple(image_shape), latent_dim=m.latent_dim, backbone=m.backbone,
              hidden=common.int_tuple(config, "model.hidden"),
              channels=common.int_tuple(config, "model.channels"), activation=m.activation,
              out_params=_LIKELIHOODS[obj.likelihood], dtype=common.compute_dtype(config))
  tx = make_optimizer(config.optim, config.train.num_steps)
  apply_fn = lambda p, *a, **kw: model.apply({"params": p}, *a, **kw)
  loss_fn = functools.partial(elbo_loss, apply_fn, likelihood=obj.likelihood, beta=obj.beta)

  def init(key):
    x = jnp.zeros((1,) + tuple(image_shape), jnp.float32)
    params = model.init(key, x, jnp.zeros((1, m.latent_dim)))["params"]
    return TrainState.create(params, tx)

  def train_step(state, batch, key):
    (loss, aux), grads = jax.value_and_grad(loss_fn, has_aux=True)(state.params, batch, key)
    state = state.apply_gradients(grads, tx, ema_decay=config.train.ema_decay)
    return state, {"train/loss": loss, "train/elbo": jnp.mean(aux["elbo"]),
                   "train/kl": jnp.mean(aux["kl"]), "train/rec": jnp.mean(aux["rec"])}

  def eval_step(state, batch, key):
    log_w, log_px_z, kl = importance_weights(
        apply_fn, state.ema_params, batch["image"], key, likelihood=obj.likelihood,
        k=obj.iw_samples, chunk=obj.iw_batch)
    rec = jnp.mean(log_px_z, axis=0)
    return {"eval/elbo": rec - kl, "eval/rec": rec, "eval/kl": kl,
            "eval/iw_nll": -losses.log_mean_exp(log_w, axis=0)}

  def sample(state, key, n):
    z = jax.random.normal(key, (n, m.latent_dim))
    return decoder_mean(apply_fn(state.ema_params, z, method="decode"), obj.likelihood)

  def reconstruct(params, x):
    mean, _ = apply_fn(params, x, method="encode")
    return decoder_mean(apply_fn(params, mean, method="decode"), obj.likelihood)

  def figures(state, ctx):
    return vae_figures.make_all(
        state, ctx,
        encode=jax.jit(lambda p, x: apply_fn(p, x, method="encode")[0]),
        decode=jax.jit(lambda p, z: decoder_mean(apply_fn(p, z, method="decode"),
                                                 obj.likelihood)),
        reconstruct=jax.jit(reconstruct), sample=jax.jit(sample, static_argnums=2))

  return Experiment(init=init, train_step=train_step, eval_step=eval_step, sample=sample,
                    figures=figures)
