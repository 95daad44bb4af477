"""The loss terms against closed forms and Monte Carlo."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy import stats

from genjax import losses


def test_kl_of_equal_gaussians_is_zero():
  assert float(losses.gaussian_kl(jnp.zeros((3, 5)), jnp.zeros((3, 5)))[0]) == 0.0


def test_kl_closed_form_matches_monte_carlo():
  key = jax.random.key(0)
  mean = jnp.array([[0.5, -1.0, 2.0]])
  logvar = jnp.array([[0.3, -0.7, 1.1]])
  z = losses.reparameterize(
    key, jnp.broadcast_to(mean, (200_000, 3)), jnp.broadcast_to(logvar, (200_000, 3))
  )
  mc = jnp.mean(losses.gaussian_log_prob(z, mean, logvar) - losses.standard_normal_log_prob(z))
  closed = losses.gaussian_kl(mean, logvar)[0]
  # Analytic value of this KL is 0.5 * sum(m^2 + e^lv - 1 - lv) = 3.0367...
  np.testing.assert_allclose(
    float(closed), 0.5 * float(jnp.sum(mean**2 + jnp.exp(logvar) - 1 - logvar)), rtol=1e-6
  )
  np.testing.assert_allclose(float(mc), float(closed), atol=0.02)


def test_gaussian_and_bernoulli_log_probs_match_scipy():
  x = np.array([[0.3, -1.2]], np.float32)
  m = np.array([[0.1, 0.5]], np.float32)
  lv = np.array([[-0.5, 0.8]], np.float32)
  ref = stats.norm.logpdf(x, m, np.exp(0.5 * lv)).sum()
  np.testing.assert_allclose(float(losses.gaussian_log_prob(x, m, lv)[0]), ref, rtol=1e-5)
  logits = np.array([[2.0, -1.0, 0.0]], np.float32)
  t = np.array([[1.0, 0.0, 1.0]], np.float32)
  p = 1 / (1 + np.exp(-logits))
  ref = np.sum(t * np.log(p) + (1 - t) * np.log(1 - p))
  np.testing.assert_allclose(float(losses.bernoulli_log_prob(logits, t)[0]), ref, rtol=1e-5)


def test_reparameterisation_gradient_is_unbiased():
  # E[z^2] = mu^2 + sigma^2 with sigma^2 = exp(logvar): d/dmu = 2 mu, d/dlogvar = sigma^2.
  mu, logvar = 0.7, -0.4
  keys = jax.random.split(jax.random.key(1), 100_000)

  def f(params, key):
    z = losses.reparameterize(key, params[0][None, None], params[1][None, None])
    return jnp.sum(z**2)

  grads = jax.vmap(jax.grad(f), in_axes=(None, 0))((jnp.float32(mu), jnp.float32(logvar)), keys)
  np.testing.assert_allclose(float(jnp.mean(grads[0])), 2 * mu, atol=0.02)
  np.testing.assert_allclose(float(jnp.mean(grads[1])), math.exp(logvar), atol=0.02)


def test_log_mean_exp_and_bits_per_dim():
  x = jnp.log(jnp.array([[1.0], [3.0]]))
  np.testing.assert_allclose(float(losses.log_mean_exp(x)[0]), math.log(2.0), rtol=1e-6)
  np.testing.assert_allclose(float(losses.nats_to_bits_per_dim(784 * math.log(2), 784)), 1.0)


# --- Reconstruction and adversarial losses, against hand-computed values ----------------


def test_half_squared_error_and_mean_absolute_error_by_hand():
  pred = jnp.array([[1.0, 2.0], [0.0, 0.0]]).reshape(2, 1, 2, 1)
  target = jnp.array([[0.0, 4.0], [0.0, -3.0]]).reshape(2, 1, 2, 1)
  np.testing.assert_allclose(losses.half_squared_error(pred, target), [0.5 * (1 + 4), 4.5])
  np.testing.assert_allclose(losses.mean_absolute_error(pred, target), [1.5, 1.5])


def _sig(v):
  return 1.0 / (1.0 + math.exp(-v))


@pytest.mark.parametrize("kind", ["minimax", "non_saturating"])
def test_discriminator_loss_is_the_binary_cross_entropy_of_the_game(kind):
  r, f = 1.3, -0.4
  d = losses.discriminator_loss(jnp.array([[r]]), jnp.array([[f]]), kind)
  np.testing.assert_allclose(d, [-math.log(_sig(r)) - math.log(1 - _sig(f))], rtol=1e-6)


def test_generator_losses_by_hand():
  f = jnp.array([[-0.4], [2.0]])
  np.testing.assert_allclose(
    losses.generator_loss(f, "minimax"),
    [math.log(1 - _sig(-0.4)), math.log(1 - _sig(2.0))],
    rtol=1e-6,
  )
  np.testing.assert_allclose(
    losses.generator_loss(f, "non_saturating"),
    [-math.log(_sig(-0.4)), -math.log(_sig(2.0))],
    rtol=1e-6,
  )
  np.testing.assert_allclose(losses.generator_loss(f, "lsgan"), [1.96, 1.0], rtol=1e-6)
  np.testing.assert_allclose(losses.generator_loss(f, "hinge"), [0.4, -2.0], rtol=1e-6)


def test_lsgan_and_hinge_discriminator_losses_average_patches():
  real = jnp.array([[1.0, 0.0], [3.0, 1.0]]).reshape(2, 1, 2, 1)  # PatchGAN-shaped outputs
  fake = jnp.array([[0.0, 1.0], [-2.0, 0.5]]).reshape(2, 1, 2, 1)
  np.testing.assert_allclose(
    losses.discriminator_loss(real, fake, "lsgan"),
    [0.5 * (0.5 + 0.5), 0.5 * (2.0 + 2.125)],
    rtol=1e-6,
  )
  np.testing.assert_allclose(
    losses.discriminator_loss(real, fake, "hinge"), [0.5 + 1.5, 0.0 + 0.75], rtol=1e-6
  )


def test_saturating_generator_gradient_vanishes_where_the_non_saturating_one_does_not():
  # When D confidently rejects a fake (logit −10), log(1 − D) is flat: the paper's argument.
  grad = lambda kind: float(
    jax.grad(lambda f: losses.generator_loss(f, kind)[0])(jnp.array([[-10.0]]))[0, 0]
  )
  assert abs(grad("minimax")) < 1e-4 < abs(grad("non_saturating"))


def test_unknown_gan_loss_is_a_clear_error():
  with pytest.raises(ValueError, match="GAN loss must be one of"):
    losses.generator_loss(jnp.zeros((1, 1)), "wasserstein")


def test_bits_per_dim_of_a_uniform_8bit_model_is_8():
  from genjax.eval import likelihood

  shape = (4, 4, 3)
  nll = jnp.full((2,), likelihood.num_dims(shape) * math.log(256.0))
  np.testing.assert_allclose(likelihood.bits_per_dim(nll, shape), [8.0, 8.0], rtol=1e-6)
  k = jnp.arange(256)
  assert (likelihood.to_bins(likelihood.from_bins(k)) == k).all()
