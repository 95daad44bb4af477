"""The DDPM family: L_simple on known cases, the U-Net's size, one smoke run of the loop."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import experiments
from experiments import ddpm
from experiments.configs import ddpm_cifar10
from genjax import diffusion
from genjax.errors import ConfigError
from genjax.nn.unet import UNet
from genjax.train.loop import train_and_evaluate


def test_simple_loss_is_zero_for_the_exact_model_and_one_for_zero():
  s = diffusion.make_schedule("linear", 100)
  x0 = jnp.linspace(-1, 1, 2 * 4 * 4).reshape(1, 4, 4, 2)
  batch = {"image": jnp.broadcast_to(x0, (512, 4, 4, 2))}

  def exact(params, xt, t, train, rngs):
    del params, train, rngs
    return diffusion.eps_from_x0(s, xt, t, jnp.broadcast_to(x0, xt.shape))

  loss, per = ddpm.simple_loss(exact, None, batch, jax.random.key(0), schedule=s, flip=False)
  assert per.shape == (512,) and float(loss) < 1e-6
  zero = lambda params, xt, t, train, rngs: jnp.zeros_like(xt)
  loss, _ = ddpm.simple_loss(zero, None, batch, jax.random.key(0), schedule=s, flip=False)
  np.testing.assert_allclose(float(loss), 1.0, atol=0.02)  # E ε² = 1


def test_random_flip_mirrors_some_images_left_right():
  x = jnp.arange(64 * 3 * 3, dtype=jnp.float32).reshape(64, 3, 3, 1)
  y = ddpm.random_flip(jax.random.key(0), x)
  same = np.all(np.asarray(y == x), axis=(1, 2, 3))
  mirrored = np.all(np.asarray(y == x[:, :, ::-1]), axis=(1, 2, 3))
  assert np.all(same | mirrored) and 10 < mirrored.sum() < 54


def test_bound_metrics_add_up():
  terms = jnp.array([[3.0, 1.0], [0.5, 0.25], [0.5, 0.75]])
  m = ddpm.bound_metrics(terms, jnp.array([0.1, 0.2]), (2, 2, 1))
  np.testing.assert_allclose(np.asarray(m["eval/nll"]), [4.1, 2.2], rtol=1e-6)
  total = m["eval/prior_bpd"] + m["eval/diffusion_bpd"] + m["eval/decoder_bpd"]
  np.testing.assert_allclose(np.asarray(total), np.asarray(m["eval/bits_per_dim"]), rtol=1e-6)
  np.testing.assert_allclose(float(m["eval/decoder_bpd"][0]), 3.0 / (4 * math.log(2)), rtol=1e-6)


def test_cifar10_unet_has_the_papers_35_7m_parameters():
  c = ddpm_cifar10.get_config()
  m = c.model
  net = UNet(
    ch=m.ch,
    ch_mult=tuple(m.ch_mult),
    num_res_blocks=m.num_res_blocks,
    attn_resolutions=tuple(m.attn_resolutions),
    dropout=m.dropout,
    groups=m.norm_groups,
  )
  shapes = jax.eval_shape(
    net.init, jax.random.key(0), jnp.zeros((1, 32, 32, 3)), jnp.zeros((1,), jnp.int32)
  )
  count = sum(math.prod(p.shape) for p in jax.tree.leaves(shapes))
  assert count == 35_746_307  # "35.7M" in Ho et al.'s Table/Appendix B


def test_bad_config_values_are_config_errors():
  from experiments.configs import ddpm_digits

  for field, value in [
    ("objective.schedule", "quadratic"),
    ("sample.sampler", "euler"),
    ("model.norm_groups", 5),
    ("objective.vlb_chunk", 7),
  ]:
    c = ddpm_digits.get_config("smoke")
    section, name = field.split(".")
    c[section][name] = value
    with pytest.raises(ConfigError):
      ddpm.make(c, (8, 8, 1))


def test_smoke_run_trains_evaluates_the_bound_and_samples(tfds_dir, tmp_path):
  from experiments.configs import ddpm_digits

  c = ddpm_digits.get_config("smoke")
  c.data.data_dir = tfds_dir
  c.train.num_steps = 4
  c.train.checkpoint_every = 4
  c.train.eval_every = 4
  c.train.sample_every = 4
  c.sample.num = 3
  c.data.eval_batch_size = 50
  c.model.num_res_blocks = 1  # compile time dominates this test; attention stays in
  workdir = tmp_path / "w"
  metrics = train_and_evaluate(experiments.build(c), c, str(workdir))
  parts = sum(metrics[f"eval/{k}_bpd"] for k in ("prior", "diffusion", "decoder"))
  np.testing.assert_allclose(parts, metrics["eval/bits_per_dim"], rtol=1e-5)
  assert 0 < metrics["eval/bits_per_dim"] < 20
  images = np.load(workdir / "samples" / "step_0000004.npz")["images"]
  assert images.shape == (3, 8, 8, 1) and images.min() >= 0.0 and images.max() <= 1.0


# CIFAR-10's network is traced by the parameter count above.
@pytest.mark.parametrize("name, shape", [("ddpm_celeb_a", (64, 64, 3))])
def test_paper_configs_build_and_their_state_traces(name, shape):
  import importlib

  c = importlib.import_module(f"experiments.configs.{name}").get_config()
  state = jax.eval_shape(ddpm.make(c, shape).init, jax.random.key(0))
  out = jax.eval_shape(lambda s: ddpm.make(c, shape).sample(s, jax.random.key(0), 2), state)
  assert out.shape == (2,) + shape
