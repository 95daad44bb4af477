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


# --- Reconstruction ---------------------------------------------------------------------


def half_squared_error(pred, target):
  """E = ½ Σ ‖pred − target‖² per example (Hinton & Salakhutdinov 2006's objective)."""
  return 0.5 * _sum_but_batch(jnp.square(pred - target))


def mean_absolute_error(pred, target):
  """Mean |pred − target| per example: the L1 of CycleGAN's cycle and identity terms,
  averaged over pixels as the paper's code does, so λ keeps its meaning at any size."""
  d = jnp.abs(pred - target)
  return jnp.mean(d.reshape(d.shape[0], -1), axis=-1)


# --- Adversarial (Goodfellow 2014; Mao 2017 LSGAN; Lim & Ye 2017 hinge) -----------------
# D outputs logits of any shape [B, ...] (a PatchGAN gives one per patch); per-example
# losses average over everything but the batch axis.

GAN_LOSSES = ("minimax", "non_saturating", "lsgan", "hinge")


def _mean_but_batch(x):
  return jnp.mean(x.reshape(x.shape[0], -1), axis=-1)


def _check_gan_loss(kind: str) -> None:
  if kind not in GAN_LOSSES:
    raise ValueError(f"GAN loss must be one of {GAN_LOSSES}, not {kind!r}.")


def discriminator_loss(real_logits, fake_logits, kind: str):
  """What D minimises, per example (real and fake batches paired row by row).

  minimax / non_saturating: −log D(x) − log(1 − D(G(z))), D = σ(logit) (the two differ
  only in G's loss). lsgan: ½[(D(x) − 1)² + D(G(z))²] on raw outputs, as CycleGAN's code.
  hinge: max(0, 1 − D(x)) + max(0, 1 + D(G(z))).
  """
  _check_gan_loss(kind)
  if kind == "lsgan":
    per = 0.5 * (
      _mean_but_batch(jnp.square(real_logits - 1.0)) + _mean_but_batch(jnp.square(fake_logits))
    )
  elif kind == "hinge":
    per = _mean_but_batch(jax.nn.relu(1.0 - real_logits)) + _mean_but_batch(
      jax.nn.relu(1.0 + fake_logits)
    )
  else:
    # −log σ(r) = softplus(−r); −log(1 − σ(f)) = softplus(f): stable for any logit.
    per = _mean_but_batch(jax.nn.softplus(-real_logits)) + _mean_but_batch(
      jax.nn.softplus(fake_logits)
    )
  return per


def generator_loss(fake_logits, kind: str):
  """What G minimises, per example.

  minimax: log(1 − D(G(z))) (the saturating loss of the game itself; its gradient
  vanishes when D rejects fakes confidently); non_saturating: −log D(G(z)) (Goodfellow's
  recommended heuristic); lsgan: (D(G(z)) − 1)²; hinge: −D(G(z)).
  """
  _check_gan_loss(kind)
  if kind == "minimax":
    per = -jax.nn.softplus(fake_logits)
  elif kind == "non_saturating":
    per = jax.nn.softplus(-fake_logits)
  elif kind == "lsgan":
    per = jnp.square(fake_logits - 1.0)
  else:
    per = -fake_logits
  return _mean_but_batch(per)


def gradient_penalty(disc, x, gamma: float, *, has_aux: bool = False):
  """γ/2 ‖∇ₓ D(x)‖² per example, with D's scores: R1 on real images, R2 on fakes
  (Mescheder et al. 2018, Eq. 9 and 10). Returns (penalty [B], scores), or
  (penalty, scores, aux) when `disc(x)` returns (scores, aux) (`has_aux`).

  A score map [B, ...] (PatchGAN) is averaged per example first, as the adversarial
  losses average it. The gradient taken is that of Σ_b D(x)_b, which is each example's
  own gradient when D treats examples independently (not so under train-mode BatchNorm,
  whose statistics couple the batch). Differentiable in D's parameters (double backprop).
  """

  def total(v):
    out = disc(v)
    scores, aux = out if has_aux else (out, None)
    return jnp.sum(_mean_but_batch(scores)), (scores, aux)

  grads, (scores, aux) = jax.grad(total, has_aux=True)(x)
  penalty = 0.5 * gamma * _sum_but_batch(jnp.square(grads.astype(jnp.float32)))
  return (penalty, scores, aux) if has_aux else (penalty, scores)


# --- Discretised likelihoods of 8-bit images --------------------------------------------


def _log_ndtr_diff(a, b):
  """log(Φ(b) − Φ(a)) for a < b, accurate in both tails (reflected when the interval
  lies to the right of 0, where Φ(b) and Φ(a) both round to 1)."""
  flip = (a + b) > 0
  lo, hi = jnp.where(flip, -b, a), jnp.where(flip, -a, b)
  log_hi, log_lo = jax.scipy.special.log_ndtr(hi), jax.scipy.special.log_ndtr(lo)
  return log_hi + jnp.log(-jnp.expm1(jnp.minimum(log_lo - log_hi, -1e-12)))


def discretized_gaussian_log_prob(x, mean, logvar, num_bins: int = 256):
  """log p(x) for x on the `num_bins` bin centres of [-1, 1], each bin receiving the
  mass of N(mean, e^logvar) over [x − 1/(num_bins−1), x + 1/(num_bins−1)], the edge bins
  reaching to ∓∞ (Ho et al. 2020, Eq. 13). Summed over all but the batch axis, nats."""
  half = 1.0 / (num_bins - 1)
  inv_std = jnp.exp(-0.5 * logvar)
  lo = (x - half - mean) * inv_std
  hi = (x + half - mean) * inv_std
  log_mid = _log_ndtr_diff(lo, hi)
  log_first = jax.scipy.special.log_ndtr(hi)  # x = −1: (−∞, −1 + half]
  log_last = jax.scipy.special.log_ndtr(-lo)  # x = +1: [1 − half, ∞)
  per = jnp.where(x < -1.0 + half, log_first, jnp.where(x > 1.0 - half, log_last, log_mid))
  return _sum_but_batch(per)


def discretized_logistic_mixture_log_prob(x, logit_weights, means, log_scales, num_bins: int = 256):
  """log p(x) of a mixture of logistics discretised as PixelCNN++ does (Salimans et al.
  2017, Eq. 2): each bin of width 2/(num_bins−1) around x receives the mixture's CDF mass
  over it, the edge bins reaching to ∓∞. x [B, ...]; the mixture parameters [B, ..., M].
  Summed over all but the batch axis, nats."""
  half = 1.0 / (num_bins - 1)
  x = x[..., None]
  inv_scale = jnp.exp(-log_scales)
  hi = (x + half - means) * inv_scale
  lo = (x - half - means) * inv_scale
  log_first = jax.nn.log_sigmoid(hi)  # x = −1: (−∞, −1 + half]
  log_last = jax.nn.log_sigmoid(-lo)  # x = +1: [1 − half, ∞)
  # σ(hi) − σ(lo) = σ(hi)·σ(−lo)·(1 − e^(lo−hi)): no cancellation in either tail.
  log_mid = (
    jax.nn.log_sigmoid(hi)
    + jax.nn.log_sigmoid(-lo)
    + jnp.log(-jnp.expm1(jnp.minimum(lo - hi, -1e-12)))
  )
  per = jnp.where(x < -1.0 + half, log_first, jnp.where(x > 1.0 - half, log_last, log_mid))
  mixed = jax.nn.logsumexp(per + jax.nn.log_softmax(logit_weights, axis=-1), axis=-1)
  return _sum_but_batch(mixed)
