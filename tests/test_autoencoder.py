"""The autoencoder family: the loss terms by hand, the sparsity gradient, the corruptions'
statistics, the denoising target, and the family through the loop (with exact resume)."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import experiments
from experiments import autoencoder, autoencoder_figures
from genjax import corruption
from genjax.errors import ConfigError
from genjax.train.loop import restore_latest, train_and_evaluate


def _fixed_apply(z, y):
  """An 'autoencoder' whose code and output are fixed arrays, whatever the input."""

  def apply_fn(params, inp, method):
    del params, inp
    return z if method == "encode" else y

  return apply_fn


def test_loss_is_half_squared_error_plus_weighted_l1_by_hand():
  x = jnp.array([[[[1.0], [-1.0]]], [[[0.5], [0.0]]]])  # two 1x2 images
  y = jnp.array([[[[0.0], [1.0]]], [[[0.5], [-0.5]]]])
  z = jnp.array([[1.0, -2.0, 0.0], [0.5, 0.5, -0.25]])
  loss, aux = autoencoder.autoencoder_loss(
    _fixed_apply(z, y),
    None,
    {"image": x},
    jax.random.key(0),
    corruption="none",
    corruption_level=0.0,
    sparsity_weight=0.3,
  )
  rec = [0.5 * (1.0 + 4.0), 0.5 * (0.0 + 0.25)]
  l1 = [3.0, 1.25]
  np.testing.assert_allclose(np.asarray(aux["rec_error"]), rec, rtol=1e-6)
  np.testing.assert_allclose(np.asarray(aux["code_l1"]), l1, rtol=1e-6)
  np.testing.assert_allclose(float(loss), np.mean(np.add(rec, np.multiply(0.3, l1))), rtol=1e-6)


def test_sparsity_penalty_adds_lambda_sign_z_to_the_code_gradient():
  key_z, key_w, key_x = jax.random.split(jax.random.key(1), 3)
  b, k = 4, 5
  x = jax.random.normal(key_x, (b, 2, 3, 1))
  w = jax.random.normal(key_w, (k, 6))

  def apply_fn(params, inp, method):  # the code is a parameter; a linear decoder
    return params["z"] if method == "encode" else (inp @ w).reshape(-1, 2, 3, 1)

  z = jax.random.normal(key_z, (b, k))

  def code_grad(lam):
    return jax.grad(
      lambda p: autoencoder.autoencoder_loss(
        apply_fn,
        p,
        {"image": x},
        None,
        corruption="none",
        corruption_level=0.0,
        sparsity_weight=lam,
      )[0]
    )({"z": z})["z"]

  # The loss is a batch mean, so each example's code gets λ sign(z) / B.
  np.testing.assert_allclose(
    np.asarray(code_grad(0.7) - code_grad(0.0)), 0.7 * np.sign(np.asarray(z)) / b, atol=1e-6
  )


def test_masking_sets_the_configured_fraction_to_the_background_and_keeps_the_rest():
  x = jax.random.uniform(jax.random.key(2), (64, 28, 28, 1), minval=-0.9, maxval=0.9)
  out = np.asarray(corruption.corrupt(jax.random.key(3), x, "masking", 0.25))
  masked = out == -1.0
  n = masked.size
  assert abs(masked.mean() - 0.25) < 4 * math.sqrt(0.25 * 0.75 / n)
  np.testing.assert_array_equal(out[~masked], np.asarray(x)[~masked])


def test_gaussian_noise_has_the_configured_std_and_no_clipping():
  x = jnp.full((50_000,), 0.9)
  d = np.asarray(corruption.corrupt(jax.random.key(4), x, "gaussian", 0.5)) - 0.9
  assert abs(d.std() - 0.5) < 0.01 and abs(d.mean()) < 0.01
  assert d.max() > 0.1 + 1.0  # values leave [-1, 1]: the noise is not clipped
  np.testing.assert_array_equal(corruption.corrupt(None, x, "none", 0.0), x)


def test_denoising_loss_reconstructs_the_clean_input_from_the_corrupted_one():
  x = jax.random.uniform(jax.random.key(5), (3, 4, 4, 1), minval=-0.9, maxval=0.9)

  # The identity autoencoder: any loss it has comes from comparing x̃ with the clean x.
  def identity(params, inp, method):
    del params
    return inp.reshape(inp.shape[0], -1) if method == "encode" else inp.reshape(x.shape)

  key = jax.random.key(6)
  loss, aux = autoencoder.autoencoder_loss(
    identity,
    None,
    {"image": x},
    key,
    corruption="masking",
    corruption_level=0.5,
    sparsity_weight=0.0,
  )
  x_bad = corruption.corrupt(key, x, "masking", 0.5)
  expected = 0.5 * np.sum(np.square(np.asarray(x_bad - x)).reshape(3, -1), axis=-1)
  assert expected.min() > 0
  np.testing.assert_allclose(np.asarray(aux["rec_error"]), expected, rtol=1e-6)
  np.testing.assert_allclose(float(loss), expected.mean(), rtol=1e-6)


@pytest.mark.parametrize(
  "field, value", [("corruption", "salt"), ("corruption_level", 1.5), ("sparsity_weight", -1.0)]
)
def test_bad_objective_values_are_config_errors(field, value):
  from experiments.configs import denoising_autoencoder_digits

  c = denoising_autoencoder_digits.get_config("smoke")
  c.objective[field] = value
  with pytest.raises(ConfigError, match="objective"):
    experiments.build(c)


def test_conv_backbone_codes_and_decodes_at_the_image_shape():
  from experiments.configs import conv_autoencoder_digits

  exp = experiments.build(conv_autoencoder_digits.get_config("smoke"))
  # Shapes only (eval_shape compiles nothing): training it is the digits run's job.
  state = jax.eval_shape(exp.init, jax.random.key(0))
  images = jax.eval_shape(lambda s, k: exp.sample(s, k, 3), state, jax.random.key(1))
  assert images.shape == (3, 28, 28, 1)
  batch = {"image": jax.ShapeDtypeStruct((2, 28, 28, 1), jnp.float32)}
  codes = jax.eval_shape(lambda s, b: exp.eval_step(s, b, jax.random.key(2)), state, batch)
  assert {k: v.shape for k, v in codes.items()} == {
    k: (2,) for k in ("eval/rec_error", "eval/mse", "eval/rec_error_corrupted", "eval/sparsity")
  }


class _StubNet:
  """A 'classifier' that is sure of class 0 for bright images, and features = mean pixel."""

  def outputs(self, images):
    m = np.asarray(images).reshape(len(images), -1).mean(-1, keepdims=True)
    probs = np.where(m > 0, np.eye(10)[0], np.full(10, 0.1))
    return probs, np.concatenate([m, m**2], -1)

  def features(self, images):
    return self.outputs(images)[1]


def test_not_generative_scores_decode_the_gaussian_and_score_confidence():
  decode = lambda z: jnp.broadcast_to(jnp.sign(z[:, :1])[:, :, None, None], (len(z), 2, 2, 1))
  real = np.ones((20, 2, 2, 1)) * np.linspace(0.5, 1.0, 20)[:, None, None, None]
  net = _StubNet()
  # Codes centred far on the positive side: every image is bright, confidence 1.
  sure = autoencoder_figures.not_generative_scores(
    decode, np.array([10.0, 0.0]), np.eye(2), net, jax.random.key(0), 200, real_images=real
  )
  np.testing.assert_allclose(sure["confidence"], 1.0)
  # Codes from N(0, I): half the images are dark, confidence (1 + 0.1) / 2.
  half = autoencoder_figures.not_generative_scores(
    decode, np.zeros(2), np.eye(2), net, jax.random.key(0), 4000, real_images=real
  )
  assert abs(half["confidence"] - 0.55) < 0.03 and half["fd"] > sure["fd"]


def test_denoising_family_trains_evaluates_and_resumes_exactly(tfds_dir, tmp_path):
  from experiments.configs import denoising_autoencoder_digits

  c = denoising_autoencoder_digits.get_config("smoke")
  c.data.data_dir = tfds_dir
  c.train.num_steps = 10
  c.train.checkpoint_every = 10
  c.train.sample_every = 0
  c.eval.fd_num_samples = 0
  exp = experiments.build(c)
  straight, split = str(tmp_path / "straight"), str(tmp_path / "split")
  metrics = train_and_evaluate(exp, c, straight)
  d = 28 * 28
  np.testing.assert_allclose(metrics["eval/rec_error"], 0.5 * d * metrics["eval/mse"], rtol=1e-5)
  assert metrics["eval/rec_error_corrupted"] > 0 and 0 <= metrics["eval/sparsity"] <= 1
  c.train.eval_every = 0  # evaluation does not touch the parameters; skip its cost
  train_and_evaluate(exp, c, split, should_stop=lambda step: step == 4)
  train_and_evaluate(exp, c, split)
  (s1, a), (s2, b) = restore_latest(exp, c, straight), restore_latest(exp, c, split)
  assert s1 == s2 == 10
  # Bitwise equal: the corruption is drawn from the step key, so a resume replays it.
  for u, v in zip(jax.tree.leaves(jax.device_get(a)), jax.tree.leaves(jax.device_get(b))):
    np.testing.assert_array_equal(u, v)


def test_paper_configs_build_and_the_dae_trains_on_mock_mnist(tmp_path):
  from experiments.configs import autoencoder_mnist, denoising_autoencoder_mnist
  from genjax import data as gdata

  # Hinton & Salakhutdinov's net: the layer sizes, by shape alone.
  exp = experiments.build(autoencoder_mnist.get_config("smoke"))
  params = jax.eval_shape(exp.init, jax.random.key(0)).params
  widths = [
    params[net][f"dense_{i}"]["kernel"].shape
    for net, n in (("enc_net", 4), ("dec_net", 4))
    for i in range(n)
  ]
  assert widths == [
    (784, 1000),
    (1000, 500),
    (500, 250),
    (250, 30),
    (30, 250),
    (250, 500),
    (500, 1000),
    (1000, 784),
  ]
  c = denoising_autoencoder_mnist.get_config("smoke")
  c.data.data_dir = str(tmp_path / "tfds")
  c.train.num_steps = 2
  c.train.checkpoint_every = 2
  c.train.sample_every = 0
  c.data.eval_batch_size = 10
  with gdata.mock_catalog(num_examples=10):
    metrics = train_and_evaluate(experiments.build(c), c, str(tmp_path / "w"))
  assert np.isfinite(metrics["eval/rec_error"]) and metrics["eval/rec_error_corrupted"] > 0
