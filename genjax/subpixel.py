"""What an autoregressive image model predicts for one sub-pixel: a distribution over
its value, with `num_params` outputs per sub-pixel, a log-probability for training and a
sampler for generation.

- Bernoulli: one logit; values −1/1 (binarised data).
- Softmax: 256 logits over the 8-bit values (PixelRNN, PixelCNN).
- LogisticMixture: M weights, means and log-scales of a discretised mixture of logistics
  (PixelCNN++). PixelCNN++ predicts one mixture per pixel with linear couplings between
  colours; here every sub-pixel has its own mixture and the channel masks carry the
  dependence on earlier colours, so the three families share one output layout.

Values live in [−1, 1]; 8-bit values are the bin centres 2k/255 − 1.
"""

import dataclasses

import jax
import jax.numpy as jnp

from genjax import losses
from genjax.eval import likelihood

MIN_LOG_SCALE = -7.0  # PixelCNN++'s floor: a logistic narrower than a bin adds nothing


@dataclasses.dataclass(frozen=True)
class Bernoulli:
  num_params: int = 1

  def log_prob(self, params, x):
    """log p(x) in nats per example; params [B, ..., 1], x [B, ...] in {−1, 1}."""
    return losses.bernoulli_log_prob(params[..., 0], (x + 1.0) / 2.0)

  def sample(self, key, params):
    """[B] values from params [B, 1]."""
    return jnp.where(jax.random.bernoulli(key, jax.nn.sigmoid(params[:, 0])), 1.0, -1.0)


@dataclasses.dataclass(frozen=True)
class Softmax:
  num_params: int = likelihood.NUM_BINS

  def log_prob(self, params, x):
    ce = losses.softmax_cross_entropy(params, likelihood.to_bins(x))
    return -jnp.sum(ce.reshape(ce.shape[0], -1), axis=-1)

  def sample(self, key, params):
    return likelihood.from_bins(jax.random.categorical(key, params, axis=-1))


@dataclasses.dataclass(frozen=True)
class LogisticMixture:
  num_mix: int = 5

  @property
  def num_params(self) -> int:
    return 3 * self.num_mix

  def split(self, params):
    """params [..., 3M] -> (logit weights, means, log-scales), each [..., M]."""
    w, mean, log_scale = jnp.split(params, 3, axis=-1)
    return w, mean, jnp.maximum(log_scale, MIN_LOG_SCALE)

  def log_prob(self, params, x):
    return losses.discretized_logistic_mixture_log_prob(
      x, *self.split(params), num_bins=likelihood.NUM_BINS
    )

  def sample(self, key, params):
    """Pick a component, draw from its logistic by inverting the CDF, and round to the
    nearest bin: the mass of each bin is exactly the one log_prob assigns."""
    w, mean, log_scale = self.split(params)
    k_mix, k_u = jax.random.split(key)
    comp = jax.random.categorical(k_mix, w, axis=-1)[:, None]
    mean = jnp.take_along_axis(mean, comp, axis=-1)[:, 0]
    scale = jnp.exp(jnp.take_along_axis(log_scale, comp, axis=-1)[:, 0])
    u = jax.random.uniform(k_u, mean.shape, minval=1e-6, maxval=1.0 - 1e-6)
    value = mean + scale * (jnp.log(u) - jnp.log1p(-u))
    return likelihood.from_bins(likelihood.to_bins(value))


NAMES = ("bernoulli", "softmax", "logistic_mixture")


def make(name: str, num_mix: int = 5):
  """The distribution a config's model.likelihood names (one of NAMES)."""
  return {
    "bernoulli": Bernoulli(),
    "softmax": Softmax(),
    "logistic_mixture": LogisticMixture(num_mix),
  }[name]
