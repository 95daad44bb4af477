"""The VAE objective: analytic cases, the bound ordering, both decoders and backbones."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy import stats

import experiments
from experiments import vae
from experiments.configs import vae_digits
from genjax import subpixel
from genjax.errors import ConfigError
from genjax.train.loop import train_and_evaluate

_RAW_UNIT_VAR = math.log(math.expm1(7.0)) - 7.0  # decoder output whose log-variance is 0


def _linear_gaussian(posterior_exact: bool):
  """p(z) = N(0, 1), p(x|z) = N(z, 1), so p(x) = N(0, 2) and p(z|x) = N(x/2, 1/2)."""

  def apply_fn(params, inp, method):
    del params
    if method == "encode":
      x = inp.reshape(inp.shape[0], 1)
      if posterior_exact:
        return 0.5 * x, jnp.full_like(x, math.log(0.5))
      return jnp.zeros_like(x), jnp.zeros_like(x)
    z = inp
    return jnp.concatenate([z, jnp.full_like(z, _RAW_UNIT_VAR)], -1).reshape(-1, 1, 1, 2)

  return apply_fn


X = jnp.array([-1.5, 0.2, 2.0]).reshape(3, 1, 1, 1)
LOG_PX = stats.norm.logpdf(np.asarray(X).ravel(), 0.0, math.sqrt(2.0))


def test_exact_posterior_makes_elbo_and_iw_equal_log_px():
  log_w, _, kl = vae.importance_weights(
    _linear_gaussian(True), None, X, jax.random.key(0), likelihood="gaussian", k=64, chunk=16
  )
  # With q = p(z|x) every importance weight equals p(x): zero variance.
  np.testing.assert_allclose(np.asarray(log_w), np.broadcast_to(LOG_PX, (64, 3)), atol=1e-4)
  loss, aux = vae.elbo_loss(
    _linear_gaussian(True), None, {"image": X}, jax.random.key(1), likelihood="gaussian", beta=1.0
  )
  # A single-sample ELBO with the closed-form KL is unbiased, not exact: average many.
  keys = jax.random.split(jax.random.key(2), 4000)
  elbos = jax.vmap(
    lambda k: vae.elbo_loss(
      _linear_gaussian(True), None, {"image": X}, k, likelihood="gaussian", beta=1.0
    )[1]["elbo"]
  )(keys)
  np.testing.assert_allclose(np.asarray(elbos.mean(0)), LOG_PX, atol=0.05)
  assert np.isfinite(float(loss)) and aux["kl"].shape == (3,)


def test_elbo_is_below_the_importance_weighted_bound_which_approaches_log_px():
  log_w, log_px_z, kl = vae.importance_weights(
    _linear_gaussian(False), None, X, jax.random.key(3), likelihood="gaussian", k=4000, chunk=1000
  )
  elbo = np.asarray(jnp.mean(log_px_z, 0) - kl)
  iw = np.asarray(jax.nn.logsumexp(log_w, 0) - math.log(4000))
  assert np.all(elbo < iw)  # Burda et al.: L_1 <= L_k
  assert np.all(np.asarray(jnp.mean(log_w, 0)) <= iw)  # Jensen, sample for sample
  assert np.all(iw <= LOG_PX + 0.02)  # and L_k <= log p(x), up to MC noise
  np.testing.assert_allclose(iw, LOG_PX, atol=0.05)
  # The gap of the prior-as-posterior ELBO is KL(N(0,1) || N(x/2, 1/2)), in closed form.
  gap = 0.5 * (2.0 * (1.0 + (np.asarray(X).ravel() / 2) ** 2) - 1.0 + math.log(0.5))
  np.testing.assert_allclose(LOG_PX - elbo, gap, atol=0.05)


def test_bernoulli_elbo_matches_a_direct_computation():
  x = jnp.array([[[[1.0], [-1.0]]]])  # one 1x2 image, pixels {1, 0}

  def apply_fn(params, inp, method):
    if method == "encode":
      return jnp.array([[0.3]]), jnp.array([[-0.2]])
    return jnp.full((inp.shape[0], 1, 2, 1), 0.4)  # logits

  _, aux = vae.elbo_loss(
    apply_fn, None, {"image": x}, jax.random.key(0), likelihood="bernoulli", beta=1.0
  )
  p = 1 / (1 + math.exp(-0.4))
  rec = math.log(p) + math.log(1 - p)
  kl = 0.5 * (0.09 + math.exp(-0.2) - 1 + 0.2)
  np.testing.assert_allclose(float(aux["rec"][0]), rec, rtol=1e-5)
  np.testing.assert_allclose(float(aux["kl"][0]), kl, rtol=1e-5)


@pytest.mark.parametrize("variant, likelihood", [("conv", "bernoulli"), ("latent20", "gaussian")])
def test_other_backbones_and_decoders_train_and_evaluate(variant, likelihood, tfds_dir, tmp_path):
  c = vae_digits.get_config(f"smoke,{variant}")
  c.data.data_dir = tfds_dir
  c.objective.likelihood = likelihood
  c.train.num_steps = 10
  c.train.checkpoint_every = 10
  metrics = train_and_evaluate(experiments.build(c), c, str(tmp_path / variant))
  sfx = vae.metric_suffix(likelihood)
  assert np.isfinite(metrics[f"eval/elbo{sfx}"])
  assert metrics[f"eval/elbo{sfx}"] <= -metrics[f"eval/iw_nll{sfx}"]


def _tiny(likelihood: str, binarize: str = "none", k: int = 64):
  """A 4x4x1 MLP VAE of `likelihood`, built without a dataset."""
  c = vae_digits.get_config("smoke")
  c.objective.likelihood, c.data.binarize = likelihood, binarize
  c.objective.iw_samples = c.objective.iw_batch = k
  c.model.hidden, c.model.num_mix = (16,), 2
  return vae.make(c, (4, 4, 1))


# A hand-made 4x4 8-bit image: both edge bins and interior ones.
X8 = jnp.array([-1.0, 1.0, 1 / 255, -127 / 255] * 4).reshape(1, 4, 4, 1)


def _tiny_eval(likelihood: str):
  experiment = _tiny(likelihood)
  state = experiment.init(jax.random.key(0))
  return experiment.eval_step(state, {"image": X8}, jax.random.key(1))


def test_a_gaussian_density_is_not_logged_under_the_discrete_names():
  metrics = _tiny_eval("gaussian")
  discrete = {"eval/elbo", "eval/rec", "eval/iw_nll", "eval/nll", "eval/bits_per_dim"}
  assert not discrete & set(metrics)
  assert {"eval/elbo_continuous", "eval/iw_nll_continuous"} <= set(metrics)


@pytest.mark.parametrize("likelihood, k", [("logistic_mixture", 6), ("softmax", 256)])
def test_an_8bit_head_sums_the_subpixel_log_probs(likelihood, k):
  # A 1x2 image with two channels: channel c of a pixel reads outputs c*k..c*k+k-1.
  x = jnp.array([-1.0, 1.0, 3 / 255, -101 / 255]).reshape(1, 1, 2, 2)
  out = jax.random.normal(jax.random.key(0), (1, 1, 2, 2 * k))
  got = vae.decoder_log_prob(out, x, likelihood, num_mix=2)
  dist = subpixel.make(likelihood, num_mix=2)
  want = sum(
    float(dist.log_prob(out[:, 0, w, c * k : (c + 1) * k], x[:, 0, w, c])[0])
    for w in range(2)
    for c in range(2)
  )
  np.testing.assert_allclose(float(got[0]), want, rtol=1e-5)


def test_the_logistic_mean_is_the_8bit_mean_to_half_a_grey_level():
  dist = subpixel.LogisticMixture(2)
  params = jnp.array(
    [
      [0.3, -0.5, -0.95, 0.2, -3.0, -1.0],  # one component past the edge
      [0.0, 2.0, 0.99, -0.4, -2.0, -6.0],
    ]
  )  # a near-point mass
  bins = jnp.linspace(-1.0, 1.0, 256)
  log_p = lambda prm, b: dist.log_prob(prm[None], b[None])[0]
  p = jnp.exp(jax.vmap(lambda prm: jax.vmap(lambda b: log_p(prm, b))(bins))(params))
  np.testing.assert_allclose(np.asarray(p.sum(-1)), 1.0, atol=1e-4)
  exact = np.asarray(jnp.sum(p * bins, -1))
  np.testing.assert_allclose(np.asarray(vae.eight_bit_mean(dist, params)), exact, atol=1 / 255)


def test_the_logistic_bound_is_a_bound_in_bits_per_dim():
  m = {k: float(v[0]) for k, v in _tiny_eval("logistic_mixture").items()}
  assert -m["eval/elbo"] >= m["eval/iw_nll"] >= 0.0
  np.testing.assert_allclose(
    m["eval/bits_per_dim"], m["eval/iw_nll"] / (16 * math.log(2)), rtol=1e-6
  )
  np.testing.assert_allclose(
    m["eval/bits_per_dim_elbo"], -m["eval/elbo"] / (16 * math.log(2)), rtol=1e-6
  )


def test_an_8bit_head_refuses_binarised_data():
  with pytest.raises(ConfigError, match="data.binarize must be 'none'"):
    _tiny("logistic_mixture", binarize="dynamic")


def test_the_logistic_digits_config_reports_bits_per_dim(tfds_dir, tmp_path):
  c = vae_digits.get_config("smoke,logistic")
  c.data.data_dir = tfds_dir
  c.train.num_steps = c.train.checkpoint_every = 4
  c.train.sample_every = 0
  c.eval.fd_num_samples = 0
  metrics = train_and_evaluate(experiments.build(c), c, str(tmp_path / "logistic"))
  assert c.data.binarize == "none" and c.objective.likelihood == "logistic_mixture"
  assert np.isfinite(metrics["eval/bits_per_dim"]) and metrics["eval/bits_per_dim"] > 0
