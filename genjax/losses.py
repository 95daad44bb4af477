"""Pure loss terms shared by the families. Per-example values; callers reduce.

All log-likelihoods are in nats and summed over every dimension but the batch one.
"""
import math

import jax
import jax.numpy as jnp
import optax

LOG_2PI = math.log(2.0 * math.pi)


def _sum_but_batch(x):
  return jnp.sum(x.reshape(x.shape[0], -1), axis=-1)


def gaussian_kl(mean, logvar):
  """KL(N(mean, exp(logvar)) || N(0, I)) in closed form (Kingma & Welling 2013, App. B)."""
  return 0.5 * _sum_but_batch(jnp.square(mean) + jnp.exp(logvar) - 1.0 - logvar)


def gaussian_log_prob(x, mean, logvar):
  """log N(x; mean, exp(logvar)) for diagonal Gaussians."""
  return _sum_but_batch(-0.5 * (LOG_2PI + logvar + jnp.square(x - mean) * jnp.exp(-logvar)))


def standard_normal_log_prob(x):
  return _sum_but_batch(-0.5 * (LOG_2PI + jnp.square(x)))


def bernoulli_log_prob(logits, targets):
  """log Bernoulli(targets; sigmoid(logits)), targets in {0, 1} (or [0, 1])."""
  return -_sum_but_batch(optax.sigmoid_binary_cross_entropy(logits, targets))


def reparameterize(key, mean, logvar):
  """z = mean + sigma * eps, eps ~ N(0, I): a sample whose gradient flows to mean, logvar."""
  eps = jax.random.normal(key, mean.shape, mean.dtype)
  return mean + jnp.exp(0.5 * logvar) * eps


def log_mean_exp(x, axis=0):
  return jax.nn.logsumexp(x, axis=axis) - math.log(x.shape[axis])


def softmax_cross_entropy(logits, labels):
  """Per-example categorical NLL in nats for integer labels."""
  return optax.softmax_cross_entropy_with_integer_labels(logits, labels)


def nats_to_bits_per_dim(nats, num_dims: int):
  return nats / (num_dims * math.log(2.0))
