"""GAN stabilisers: the R1/R2 gradient penalty against gradients known by hand,
DiffAugment (the same transform of real and fake for one key, pixels moved as asked,
differentiable), spectral normalisation against numpy's SVD, the digits defaults
stabilised and the paper settings one argument away, short stabilised runs of the MLP
GAN and DCGAN, and CycleGAN's augmented, penalised, spectrally normalised discriminators."""

import importlib

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from experiments import cyclegan, gan
from experiments.configs import cyclegan_digits, dcgan_digits, gan_digits
from genjax import augment, losses
from genjax.errors import ConfigError
from genjax.nn import gan as gan_nn
from genjax.nn.cyclegan import PatchDiscriminator

SHAPE = (16, 16, 1)


def _images(n=4, seed=0, shape=SHAPE):
  return jax.random.uniform(jax.random.key(seed), (n, *shape), minval=-1.0, maxval=1.0)


# --- R1 / R2 -----------------------------------------------------------------------------


def test_r1_of_a_linear_discriminator_is_half_gamma_times_the_squared_weight_norm():
  # D(x) = <w, x> + b has gradient w at every x: the penalty is gamma/2 ||w||^2 per row.
  w = np.asarray(_images(1, seed=1)[0])
  disc = lambda x: jnp.sum(x * w, axis=(1, 2, 3)) + 0.3
  x = _images()
  penalty, scores = losses.gradient_penalty(disc, x, 10.0)
  np.testing.assert_allclose(penalty, np.full(4, 5.0 * np.sum(w**2)), rtol=1e-5)
  np.testing.assert_allclose(scores, disc(x), rtol=1e-6)


def test_gradient_penalty_of_a_quadratic_and_of_a_score_map():
  # D(x) = sum(a x^2) / 2: gradient a x, different for every example.
  a = np.linspace(0.5, 2.0, int(np.prod(SHAPE)), dtype=np.float32).reshape(SHAPE)
  x = _images()
  penalty, _ = losses.gradient_penalty(lambda v: 0.5 * jnp.sum(a * v**2, (1, 2, 3)), x, 2.0)
  np.testing.assert_allclose(penalty, np.sum((a * np.asarray(x)) ** 2, (1, 2, 3)), rtol=1e-5)
  # A PatchGAN-style map [B, h, w, 1] is averaged per example first: four patch scores
  # sum(x * w) each give gradient w / 4.
  w = np.asarray(_images(1, seed=2)[0])
  score_map = lambda v: jnp.broadcast_to(
    jnp.sum(v * w, (1, 2, 3))[:, None, None, None], (4, 2, 2, 1)
  )
  penalty, _ = losses.gradient_penalty(score_map, x, 1.0)
  np.testing.assert_allclose(penalty, np.full(4, 0.5 * np.sum(w**2)), rtol=1e-5)


def test_discriminator_objective_adds_r1_and_r2_and_their_gradients():
  # D(x) = p * mean(x): R1 = R2 = gamma/2 * p^2 * n / n^2 per example (n pixels).
  real, fake = _images(4), _images(4, seed=1)
  apply_fn = lambda p, s, x, key: (p * jnp.mean(x.reshape(4, -1), -1), s)
  n = int(np.prod(SHAPE))

  def objective(p, r1=0.0, r2=0.0):
    return gan.discriminator_objective(
      apply_fn,
      p,
      {"image": real},
      jax.random.key(0),
      model_state={},
      fake=fake,
      kind="minimax",
      r1_gamma=r1,
      r2_gamma=r2,
    )

  plain, _ = objective(2.0)
  loss, aux = objective(2.0, r1=3.0, r2=5.0)
  np.testing.assert_allclose(float(aux["r1"]), 1.5 * 4.0 / n, rtol=1e-5)
  np.testing.assert_allclose(float(aux["r2"]), 2.5 * 4.0 / n, rtol=1e-5)
  np.testing.assert_allclose(float(loss), float(plain) + 4.0 * 4.0 / n, rtol=1e-5)
  # d/dp of (gamma1 + gamma2)/2 p^2 / n = 8 p / n: the penalty trains D's parameters.
  grad = jax.grad(lambda p: objective(p, 3.0, 5.0)[0] - objective(p)[0])(2.0)
  np.testing.assert_allclose(float(grad), 16.0 / n, rtol=1e-4)


# --- DiffAugment -------------------------------------------------------------------------


def test_translation_moves_a_known_pixel_and_fills_what_comes_in():
  x = jnp.zeros((2, 8, 8, 1)).at[:, 3, 4, 0].set(1.0)
  out = augment.translate(x + 0.5, jnp.array([[1, -2], [0, 0]]), fill=-1.0)
  # out[i, j] = x[i + 1, j - 2]: the pixel at (3, 4) lands at (2, 6).
  assert float(out[0, 2, 6, 0]) == 1.5 and float(jnp.sum(out[0] == 1.5)) == 1
  # Row 7 and columns 0-1 came from outside the image.
  assert bool(jnp.all(out[0, 7] == -1.0)) and bool(jnp.all(out[0, :, :2] == -1.0))
  assert float(jnp.sum(out[0] == 0.5)) == 7 * 6 - 1
  np.testing.assert_array_equal(out[1], x[1] + 0.5)


def test_cutout_zeroes_its_rectangle_clipped_at_the_edges():
  x = jnp.ones((2, 6, 6, 1))
  out = augment.cutout(x, jnp.array([[1, 2], [-1, 4]]), (3, 3))
  np.testing.assert_array_equal(out[0, 1:4, 2:5, 0], 0.0)
  assert float(jnp.sum(out[0])) == 36 - 9
  np.testing.assert_array_equal(out[1, 0:2, 4:6, 0], 0.0)
  assert float(jnp.sum(out[1])) == 36 - 4


def test_one_key_gives_real_and_fake_the_same_transform():
  real, fake, key = _images(), _images(seed=1), jax.random.key(3)
  geometric = ("translation", "cutout")
  aug = lambda v, p=geometric: augment.diff_augment(v, key, p)
  # Translation and cutout (zeros in, zeros out) are linear in the image: with one key
  # the same shift and hole are applied to both batches.
  np.testing.assert_allclose(aug(real + 2 * fake), aug(real) + 2 * aug(fake), atol=1e-6)
  assert not np.allclose(aug(real), real)
  # Colour: the same brightness, saturation and contrast for row b of both batches.
  full = augment.POLICIES
  np.testing.assert_allclose(aug(real, full), aug(real, full), atol=0)
  shifted = aug(real + 0.25, ("color",)) - aug(real, ("color",))  # contrast c_b * 0.25
  c = np.asarray(shifted).reshape(4, -1)
  np.testing.assert_allclose(c, np.repeat(c[:, :1], c.shape[1], 1), atol=1e-6)
  assert np.all((c[:, 0] >= 0.125 - 1e-6) & (c[:, 0] <= 0.375 + 1e-6))
  # Another key, another transform; no policy, no change.
  assert not np.allclose(aug(real), augment.diff_augment(real, jax.random.key(4), geometric))
  np.testing.assert_array_equal(augment.diff_augment(real, key, ()), real)


def test_augmentation_is_differentiable():
  x = _images()
  w = _images(1, seed=5)[0]
  for policy in (("color",), ("translation",), ("cutout",), augment.POLICIES):
    g = jax.grad(lambda v: jnp.sum(w * augment.diff_augment(v, jax.random.key(1), policy)))(x)
    assert bool(jnp.all(jnp.isfinite(g))) and float(jnp.max(jnp.abs(g))) > 0, policy


def test_ada_probability_applies_each_transform_to_that_share_of_examples():
  x = jnp.ones((400, 8, 8, 1))  # cutout always zeroes part of an image of ones
  key, cut = jax.random.key(2), ("cutout",)
  np.testing.assert_array_equal(augment.diff_augment(x, key, cut, jnp.float32(0.0)), x)
  full = augment.diff_augment(x, key, augment.POLICIES)
  np.testing.assert_array_equal(augment.diff_augment(x, key, augment.POLICIES, 1.0), full)
  changed = jnp.any(augment.diff_augment(x, key, cut, jnp.float32(0.3)) != x, axis=(1, 2, 3))
  assert 0.22 < float(jnp.mean(changed)) < 0.38  # 120 of 400 expected, sd 9
  # p is a traced value: one compiled step serves every p, and stays differentiable in x
  g = jax.jit(jax.grad(lambda v, p: jnp.sum(augment.diff_augment(v, key, cut, p))))(x, 0.5)
  assert set(np.unique(np.asarray(g))) == {0.0, 1.0}


def test_ada_controller_moves_p_by_the_sign_of_r_minus_the_target():
  update = lambda p, signs: float(
    augment.ada_update(jnp.float32(p), signs, target=0.6, images=100, max_images=1000)
  )
  assert update(0.5, 80.0) == pytest.approx(0.6)  # r = 0.8 > 0.6: D too sure, more augmentation
  assert update(0.5, 20.0) == pytest.approx(0.4)  # r = 0.2: less
  assert update(0.0, -100.0) == 0.0 and update(0.95, 100.0) == 1.0  # clipped to [0, 1]


def test_ada_in_the_gan_step_moves_p_every_interval_from_the_logged_signs():
  c = gan_digits.get_config("smoke,ada,r1=false,sn=false")
  c.model.g_hidden, c.model.d_hidden, c.model.latent_dim = (32,), (32,), 8
  c.objective.update(ada_target=0.1, ada_interval=2, ada_max_images=64)  # 32 images: 0.5
  c.optim_disc.learning_rate = 0.01
  exp = gan.make(c, SHAPE)
  state = exp.init(jax.random.key(0))
  assert {k: float(v) for k, v in state["ada"].items()} == {"p": 0.0, "signs": 0.0, "images": 0.0}
  step, p, signs = jax.jit(exp.train_step), 0.0, []
  for i in range(6):  # real images D soon tells from G's first fakes: bright ones
    real = 0.9 + 0.1 * _images(16, seed=i)
    state, m = step(state, {"image": real, "label": jnp.zeros((16,))}, jax.random.key(10 + i))
    assert float(m["train/ada_p"]) == pytest.approx(p)  # the p this step used
    signs.append(float(m["train/d_real_sign"]))
    if i % 2 == 1:  # every second G step: r over those two batches
      r = (signs[-1] + signs[-2]) / 2
      p = min(max(p + np.sign(r - 0.1) * 0.5, 0.0), 1.0)
      assert float(state["ada"]["images"]) == 0.0
    else:
      assert float(state["ada"]["images"]) == 16.0
    assert float(state["ada"]["p"]) == pytest.approx(p), i
  assert p > 0.0  # D's first steps are sure of the real images: p rose
  assert gan_digits.get_config("ada,diffaug=false").objective.ada_target == 0.0  # nothing to adapt
  c.objective.augment = ""
  with pytest.raises(ConfigError, match="ada_target adapts the probability of objective.augment"):
    gan.make(c, SHAPE)
  c.objective.augment = "cutout"
  c.objective.ada_target = 1.5
  with pytest.raises(ConfigError, match="objective.ada_target"):
    gan.make(c, SHAPE)
  assert gan_digits.get_config("paper,ada").objective.ada_target == 0.0  # a stabiliser too


def test_augment_policy_is_checked():
  assert augment.parse_policy(" translation, cutout ") == ("translation", "cutout")
  assert augment.parse_policy("") == ()
  c = gan_digits.get_config("smoke")
  c.objective.augment = "translation,flip"
  with pytest.raises(ConfigError, match="objective.augment: unknown augmentation 'flip'"):
    gan.make(c, SHAPE)
  c.objective.augment = ""
  c.objective.r1_gamma = -1.0
  with pytest.raises(ConfigError, match="objective.r1_gamma"):
    gan.make(c, SHAPE)


# --- Spectral normalisation --------------------------------------------------------------


class _SNDense(nn.Module):
  @nn.compact
  def __call__(self, x, train=True):
    return gan_nn.spectral(nn.Dense(6, use_bias=False, name="dense"), True, train)(x)


def test_spectral_norm_makes_the_largest_singular_value_one():
  module = _SNDense()
  eye = jnp.eye(10)
  variables = module.init(jax.random.key(0), eye, train=False)
  kernel = np.asarray(variables["params"]["dense"]["kernel"]) * 3.0  # sigma far from 1
  params = {"dense": {"kernel": jnp.asarray(kernel)}}
  stats = variables["batch_stats"]
  for _ in range(30):  # one power iteration per training call, as in training
    _, new = module.apply(
      {"params": params, "batch_stats": stats}, eye, train=True, mutable=["batch_stats"]
    )
    stats = new["batch_stats"]
  # The layer's effective matrix, read off by feeding it the identity (no bias).
  effective = module.apply({"params": params, "batch_stats": stats}, eye, train=False)
  top = np.linalg.svd(kernel, compute_uv=False)[0]
  assert top > 1.5
  np.testing.assert_allclose(
    np.linalg.svd(np.asarray(effective), compute_uv=False)[0], 1.0, rtol=1e-3
  )
  np.testing.assert_allclose(float(stats["sn_dense"]["dense/kernel/sigma"]), top, rtol=1e-3)
  # Evaluation (train=False) leaves the power-iteration state alone.
  _, same = module.apply(
    {"params": params, "batch_stats": stats}, eye, train=False, mutable=["batch_stats"]
  )
  assert all(np.array_equal(a, b) for a, b in zip(jax.tree.leaves(same), jax.tree.leaves(stats)))


def _assert_sigmas_are_top_singular_values(disc, variables, x, layers, calls=30):
  """After `calls` training-mode passes of `disc` on x, each layer's estimated sigma is
  the largest singular value of its kernel as a [kh*kw*cin, cout] matrix."""
  train = jax.jit(
    lambda stats: disc.apply(
      {"params": variables["params"], "batch_stats": stats}, x, train=True, mutable=["batch_stats"]
    )[1]["batch_stats"]
  )
  stats = variables["batch_stats"]
  for _ in range(calls):
    stats = train(stats)
  for name in layers:
    kernel = np.asarray(variables["params"][name]["kernel"])
    top = np.linalg.svd(kernel.reshape(-1, kernel.shape[-1]), compute_uv=False)[0]
    np.testing.assert_allclose(
      float(stats[f"sn_{name}"][f"{name}/kernel/sigma"]), top, rtol=1e-3, err_msg=name
    )


def test_dcgan_discriminator_normalises_every_layer_and_drops_batch_norm():
  disc = gan_nn.DCGANDiscriminator(channels=(4, 8), spectral_norm=True, batch_norm=False)
  x = _images()
  variables = disc.init(jax.random.key(0), x, train=False)
  assert set(variables["params"]) == {"conv_0", "conv_1", "out"}  # no BatchNorm
  assert set(variables["batch_stats"]) == {"sn_conv_0", "sn_conv_1", "sn_out"}
  _assert_sigmas_are_top_singular_values(disc, variables, x, ("conv_0", "conv_1", "out"))


def test_patch_discriminator_normalises_every_conv_and_keeps_its_parameters():
  x = _images(2)
  plain = PatchDiscriminator(4, 1).init(jax.random.key(0), x)
  assert set(plain) == {"params"}  # no state: checkpoints without SN load as before
  layers = ("Conv_0", "Conv_1", "Conv_2")
  shapes = lambda v: jax.tree.map(jnp.shape, v["params"])
  for instance_norm in (True, False):
    disc = PatchDiscriminator(4, 1, spectral_norm=True, instance_norm=instance_norm)
    # Power iteration converges as (sigma_2 / sigma_1)^(2 calls): at this seed the ratio
    # is at most 0.93 (0.97 at seed 0, where 30 calls leave sigma 2e-3 short).
    variables = disc.init(jax.random.key(2), x, train=False)
    assert shapes(variables) == shapes(plain) and set(shapes(plain)) == set(layers)
    assert set(variables["batch_stats"]) == {f"sn_{n}" for n in layers}
  # Instance norm or not, the power iterations are the same: checked once, without it.
  _assert_sigmas_are_top_singular_values(disc, variables, x, layers, calls=60)


# --- The configs -------------------------------------------------------------------------


def test_defaults_are_stabilised_and_paper_switches_every_stabiliser_off():
  c = gan_digits.get_config()
  assert c.objective.augment == "color,translation,cutout" and c.objective.r1_gamma == 1.0
  assert c.model.d_spectral_norm
  assert (c.optim.learning_rate, c.optim_disc.learning_rate) == (1e-4, 4e-4)
  assert c.objective.ada_target == 0.0  # the MLP GAN's augmentation is always on
  d = dcgan_digits.get_config()  # DiffAugment with ADA: R1 and SN were measured worse here
  assert d.objective.augment == "color,translation,cutout" and d.objective.r1_gamma == 0.0
  assert d.objective.ada_target == 0.6
  assert not d.model.d_spectral_norm and d.model.d_batch_norm
  for mod in (gan_digits, dcgan_digits):
    p = mod.get_config("paper")
    assert (p.objective.augment, p.objective.r1_gamma, p.objective.r2_gamma) == ("", 0.0, 0.0)
    assert p.objective.ada_target == 0.0
    assert not p.model.d_spectral_norm and p.model.d_batch_norm
    assert p.optim.learning_rate == p.optim_disc.learning_rate == 2e-4
    one = mod.get_config("paper,r1")  # `paper` wins: every stabiliser off
    assert one.objective.r1_gamma == 0.0
    r1 = mod.get_config("diffaug=false,sn=false,ttur=false,r1")  # R1 alone
    assert (r1.objective.augment, r1.objective.r1_gamma, r1.model.d_spectral_norm) == (
      "",
      1.0,
      False,
    )
  assert not dcgan_digits.get_config("sn").model.d_batch_norm  # SN-GAN's D: no BatchNorm
  # The paper-scale configs keep their papers' settings.
  for name in ("gan_mnist", "dcgan_mnist", "dcgan_cifar10", "dcgan_celeb_a"):
    c = importlib.import_module(f"experiments.configs.{name}").get_config()
    assert (c.objective.augment, c.objective.r1_gamma, c.model.d_spectral_norm) == ("", 0.0, False)
    assert c.optim.learning_rate == c.optim_disc.learning_rate


@pytest.mark.parametrize("mod", [gan_digits, dcgan_digits], ids=["gan", "dcgan"])
def test_stabilised_smoke_training_runs_with_finite_losses(mod):
  # Every stabiliser on, and TTUR: a few jitted steps and an evaluation give finite
  # numbers, the penalty is logged, and D's power-iteration vectors move with training.
  c = mod.get_config("smoke,r1,sn,ttur")
  c.model.g_hidden, c.model.d_hidden = (32,), (32,)
  c.model.g_channels, c.model.d_channels = (16, 8), (8, 16)
  c.model.latent_dim = 8
  exp = gan.make(c, SHAPE)
  state = exp.init(jax.random.key(0))
  assert "batch_stats" in state["disc"].model_state
  start = jax.tree.map(jnp.copy, state["disc"].model_state)
  step = jax.jit(exp.train_step)
  for i in range(3):
    batch = {"image": _images(16, seed=i), "label": jnp.zeros((16,), jnp.int32)}
    state, m = step(state, batch, jax.random.key(10 + i))
    for name in ("d_loss", "g_loss", "r1", "d_grad_norm", "g_grad_norm"):
      value = float(m[f"train/{name}"])
      assert np.isfinite(value) and value != 0.0, (i, name)
  leaves = zip(jax.tree.leaves(start), jax.tree.leaves(state["disc"].model_state))
  assert not all(np.array_equal(a, b) for a, b in leaves)
  ev = jax.jit(exp.eval_step)(state, {"image": _images(8)}, jax.random.key(0))
  assert all(bool(jnp.all(jnp.isfinite(v))) for v in ev.values())


# --- CycleGAN's discriminators -----------------------------------------------------------


def test_cyclegan_discriminator_objective_adds_r1_through_the_augmentation():
  # D(v) = w * v, one score per pixel, averaged per example: gradient w / n per pixel, so
  # R1 = gamma/2 * w^2 / n; translation and cutout keep some pixels, so with augmentation
  # the gradient reaches only the pixels that survive (fewer, never more).
  nets = lambda params, state, v, *, net, train=False: (params["w"] * v, state)
  real, fake = _images(2), _images(2, seed=1)
  n = int(np.prod(SHAPE))

  def objective(**options):
    return cyclegan.discriminator_objective(
      nets,
      {"w": jnp.float32(2.0)},
      {"real": real, "fake": fake},
      jax.random.key(0),
      gan_loss="lsgan",
      **options,
    )

  plain, aux = objective()
  assert set(aux) == {"model_state", "real_scores"} and aux["model_state"] == {}
  loss, aux = objective(r1_gamma=3.0)
  np.testing.assert_allclose(float(aux["r1"]), 1.5 * 4.0 / n, rtol=1e-5)
  np.testing.assert_allclose(float(loss), float(plain) + 1.5 * 4.0 / n, rtol=1e-5)
  _, aux = objective(r1_gamma=3.0, augment_policy=("translation", "cutout"))
  assert 0 < float(aux["r1"]) < 1.5 * 4.0 / n


def test_cyclegan_default_discriminators_have_no_state_and_sn_is_checked():
  c = cyclegan_digits.get_config("smoke")
  assert not c.model.disc_spectral_norm and c.model.disc_instance_norm
  state = jax.eval_shape(cyclegan.make(c, SHAPE).init, jax.random.key(0))  # traced only
  assert all(state[n].model_state == {} for n in ("G", "F", "D_X", "D_Y"))
  sn = cyclegan_digits.get_config("smoke,sn").model
  assert sn.disc_spectral_norm and not sn.disc_instance_norm
  c.model.disc_spectral_norm = None  # what a type-safe ConfigDict lets through
  with pytest.raises(ConfigError, match="model.disc_spectral_norm must be True or False"):
    cyclegan.make(c, SHAPE)


def test_cyclegan_step_with_augmentation_ada_r1_and_sn_is_finite():
  # Every stabiliser on. Power iteration reads only D's kernel and u, not its input: the
  # step moves u by exactly D's own two passes (real, then fake), none for G's objective.
  c = cyclegan_digits.get_config("smoke,diffaug,ada,r1,sn")
  assert c.objective.augment == "translation,cutout" and c.objective.r1_gamma == 1.0
  c.objective.update(ada_interval=2, ada_max_images=16)  # 8 images a move: p by 0.5
  exp = cyclegan.make(c, SHAPE)
  state = exp.init(jax.random.key(0))
  batch = {"image_a": _images(4), "image_b": _images(4, seed=1)}
  step = jax.jit(exp.train_step)
  new, m = step(state, batch, jax.random.key(1))
  for name in ("loss_G", "loss_D_X", "loss_D_Y", "r1_D_X", "r1_D_Y", "ada_p_D_X", "ada_p_D_Y"):
    assert np.isfinite(float(m[f"train/{name}"])), name
  # One p per discriminator: after one step 4 real images gathered, after two p moved.
  after_two, _ = step(new, batch, jax.random.key(2))
  for n in ("D_X", "D_Y"):
    assert (float(new["ada"][n]["images"]), float(new["ada"][n]["p"])) == (4.0, 0.0)
    assert abs(float(new["ada"][n]["signs"])) <= 4.0
    assert float(after_two["ada"][n]["images"]) == 0.0
    assert float(after_two["ada"][n]["p"]) in (0.0, 0.5)
  disc = PatchDiscriminator(
    c.model.disc_features, c.model.disc_layers, spectral_norm=True, instance_norm=False
  )
  for n in ("D_X", "D_Y"):
    stats = state[n].model_state["batch_stats"]
    for _ in range(2):
      _, stats = disc.apply(
        {"params": state[n].params, "batch_stats": stats},
        batch["image_a"],
        train=True,
        mutable=["batch_stats"],
      )
      stats = stats["batch_stats"]
    before = jax.tree.leaves(state[n].model_state)
    after = jax.tree.leaves(new[n].model_state)
    assert not all(np.allclose(a, b) for a, b in zip(before, after)), n
    for got, want in zip(after, jax.tree.leaves(stats)):
      np.testing.assert_allclose(np.asarray(got), np.asarray(want), rtol=1e-5, atol=1e-6)
