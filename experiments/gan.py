"""Generative adversarial nets (Goodfellow et al. 2014) and DCGAN (Radford et al. 2015).

The game min_G max_D E[log D(x)] + E[log(1 - D(G(z)))] played by alternating updates, as
the paper's Algorithm 1: each train step makes k discriminator updates, then one
generator update against the updated D. The state is {"gen": TrainState, "disc":
TrainState}, each with its own optimiser (config.optim for G, config.optim_disc for D).

With k > 1 the real batch of data.batch_size = k * m images is split into k slices of m,
one per D update: Algorithm 1 draws a fresh minibatch of examples for every D step, and
reusing one batch k times would let D fit those few images. Every D step also draws its
own z; the G step uses m fresh z.

Stabilisers for small data, each off by default and composable:
- objective.augment: DiffAugment (Zhao et al. 2020, genjax.augment) of every image D
  sees while training, real and fake, in D's loss and in G's (gradients reach G through
  it); each D pass draws its transforms from its own key, split from the step key;
- objective.ada_target > 0: ADA's adaptive probability (Karras et al. 2020) for those
  transforms: each is applied with probability p, which starts at 0 and every
  objective.ada_interval steps moves towards more augmentation while r = E[sign(D(real))]
  is above the target (D is sure of the real images: it is memorising them) and towards
  less while it is below; p can go from 0 to 1 in objective.ada_max_images real images.
  p and the signs gathered since its last move are state["ada"], checkpointed with the
  rest, so a resumed run moves p as one that was not stopped;
- objective.r1_gamma / r2_gamma: the gradient penalty γ/2 ‖∇ₓ D(x)‖² on real images (R1)
  and on fakes (R2) added to D's loss (Mescheder et al. 2018), taken through the
  augmentation as StyleGAN2-ADA does;
- model.d_spectral_norm: spectral normalisation of D's layers (Miyato et al. 2018), its
  power-iteration vectors in D's model_state beside any BatchNorm statistics;
  model.d_batch_norm=False removes DCGAN D's BatchNorm;
- two time-scale learning rates (TTUR, Heusel et al. 2017): config.optim (G) and
  config.optim_disc (D) are separate sections already.
Samples, figures and metrics use G's EMA parameters (train.ema_decay; 0 makes them the
raw parameters); D's parameters are never averaged for anything but the record.
"""

import functools

import jax
import jax.numpy as jnp
import optax

from experiments import common, gan_figures
from genjax import augment, losses
from genjax import config_checks as checks
from genjax.errors import ConfigError
from genjax.nn import gan as gan_nn
from genjax.train.experiment import Experiment
from genjax.train.optim import make_optimizer
from genjax.train.state import TrainState, ema_options

ARCHITECTURES = ("mlp", "dcgan")
PRIORS = ("uniform", "normal")
# Losses whose D output is a logit of a probability; lsgan and hinge read D's raw output.
_PROBABILISTIC = ("minimax", "non_saturating")


def sample_latent(key, n: int, dim: int, prior: str):
  """z ~ U(-1, 1)^dim (both papers) or N(0, I)."""
  if prior == "uniform":
    return jax.random.uniform(key, (n, dim), minval=-1.0, maxval=1.0)
  return jax.random.normal(key, (n, dim))


def d_value(logits, kind: str):
  """What "D(x)" means for this loss: sigma(logit) for the cross-entropy games, the raw
  output for lsgan (target 1 real, 0 fake) and hinge (real > 1, fake < -1)."""
  return jax.nn.sigmoid(logits) if kind in _PROBABILISTIC else logits


def _scores(apply_fn, params, model_state, x, key, gamma: float):
  """(logits, model_state, penalty [B] or None): D on x, with the gradient penalty of
  weight gamma on x when gamma > 0."""
  if gamma <= 0:
    return (*apply_fn(params, model_state, x, key), None)
  penalty, logits, model_state = losses.gradient_penalty(
    lambda v: apply_fn(params, model_state, v, key), x, gamma, has_aux=True
  )
  return logits, model_state, penalty


def discriminator_objective(
  apply_fn,
  params,
  batch,
  key,
  *,
  model_state,
  fake,
  kind: str,
  r1_gamma: float = 0.0,
  r2_gamma: float = 0.0,
):
  """D's loss on real images batch["image"] and on given fakes, averaged over the batch,
  plus the R1 (real) and R2 (fake) gradient penalties when their weights are positive.

  `apply_fn(params, model_state, x, key) -> (logits, model_state)`. G's parameters are
  not an argument, so no gradient of this loss can reach G. Real and fake images pass D
  as separate batches, so BatchNorm statistics are never mixed across the two.
  """
  k_real, k_fake = jax.random.split(key)
  real_logits, model_state, r1 = _scores(
    apply_fn, params, model_state, batch["image"], k_real, r1_gamma
  )
  fake_logits, model_state, r2 = _scores(
    apply_fn, params, model_state, jax.lax.stop_gradient(fake), k_fake, r2_gamma
  )
  loss = jnp.mean(losses.discriminator_loss(real_logits, fake_logits, kind))
  aux = {"model_state": model_state, "real_logits": real_logits, "fake_logits": fake_logits}
  for name, penalty in (("r1", r1), ("r2", r2)):
    if penalty is not None:
      aux[name] = jnp.mean(penalty)
      loss = loss + aux[name]
  return loss, aux


def generator_objective(
  apply_fn, params, batch, key, *, model_state, disc, kind: str, latent_dim: int, prior: str
):
  """G's loss on as many fresh z as batch["image"] has rows, judged by `disc(x, key) ->
  logits` (D with its parameters held fixed: only G's parameters are differentiated)."""
  k_z, k_d = jax.random.split(key)
  z = sample_latent(k_z, batch["image"].shape[0], latent_dim, prior)
  fake, model_state = apply_fn(params, model_state, z)
  logits = disc(fake, k_d)
  loss = jnp.mean(losses.generator_loss(logits, kind))
  return loss, {"model_state": model_state, "fake_logits": logits}


def _check(config):
  m, obj = config.model, config.objective
  if m.architecture not in ARCHITECTURES:
    raise ConfigError(f"model.architecture must be one of {ARCHITECTURES}, not {m.architecture!r}.")
  for name in ("generator_loss", "discriminator_loss"):
    if obj[name] not in losses.GAN_LOSSES:
      raise ConfigError(f"objective.{name} must be one of {losses.GAN_LOSSES}, not {obj[name]!r}.")
  if obj.latent_prior not in PRIORS:
    raise ConfigError(f"objective.latent_prior must be one of {PRIORS}, not {obj.latent_prior!r}.")
  if obj.d_steps < 1:
    raise ConfigError(f"objective.d_steps must be at least 1, not {obj.d_steps}.")
  if config.data.batch_size % obj.d_steps:
    raise ConfigError(
      f"data.batch_size ({config.data.batch_size}) must be a multiple of "
      f"objective.d_steps ({obj.d_steps}): each D step takes its own slice."
    )
  if m.latent_dim < 1:
    raise ConfigError(f"model.latent_dim must be positive, not {m.latent_dim}.")
  if not 0.0 <= m.d_dropout < 1.0:
    raise ConfigError(f"model.d_dropout must be in [0, 1), not {m.d_dropout}.")
  augment_policy(config)
  for name in ("r1_gamma", "r2_gamma"):
    checks.real(f"objective.{name}", obj.get(name, 0.0), 0)
  augment.ada_options(obj, augment_policy(config))
  if m.architecture == "mlp":
    common.activation("model.g_activation", m.g_activation)
    common.activation("model.d_activation", m.d_activation)
    checks.integer("model.d_maxout_pieces", m.d_maxout_pieces, 1)
  else:
    checks.real("model.bn_momentum", m.bn_momentum, 0, 1)


def augment_policy(config) -> tuple:
  """objective.augment as a tuple of genjax.augment transforms, or one clear error."""
  try:
    return augment.parse_policy(config.objective.get("augment", ""))
  except ValueError as e:
    raise ConfigError(f"objective.augment: {e}") from None


def build_networks(config, image_shape):
  m = config.model
  dtype = common.compute_dtype(config)
  if m.architecture == "mlp":
    gen = gan_nn.MLPGenerator(
      image_shape=tuple(image_shape),
      hidden=common.int_tuple(config, "model.g_hidden"),
      activation=m.g_activation,
      dtype=dtype,
    )
    disc = gan_nn.MLPDiscriminator(
      hidden=common.int_tuple(config, "model.d_hidden"),
      activation=m.d_activation,
      maxout_pieces=m.d_maxout_pieces,
      dropout_rate=m.d_dropout,
      spectral_norm=m.get("d_spectral_norm", False),
      dtype=dtype,
    )
  else:
    g_ch = common.int_tuple(config, "model.g_channels", non_empty=True)
    common.halvings("model.g_channels", g_ch, image_shape)
    gen = gan_nn.DCGANGenerator(
      image_shape=tuple(image_shape), channels=g_ch, bn_momentum=m.bn_momentum, dtype=dtype
    )
    disc = gan_nn.DCGANDiscriminator(
      channels=common.int_tuple(config, "model.d_channels"),
      bn_momentum=m.bn_momentum,
      spectral_norm=m.get("d_spectral_norm", False),
      batch_norm=m.get("d_batch_norm", True),
      dtype=dtype,
    )
  return gen, disc


def _apply(module, params, model_state, x, key=None, train=True):
  """module(x) -> (output, model_state); in training BatchNorm uses and updates batch
  statistics and dropout draws from `key`."""
  variables = {"params": params, **model_state}
  rngs = {"dropout": key} if key is not None else {}
  if train and model_state:
    out, new_state = module.apply(variables, x, train=True, rngs=rngs, mutable=list(model_state))
    return out, dict(new_state)
  return module.apply(variables, x, train=train, rngs=rngs), model_state


def _augmented_apply(module, policy, params, model_state, x, key=None, train=True, p=None):
  """_apply on T(x) while training (T = genjax.augment.diff_augment with `policy`, each
  transform applied with probability p when p is given), its transforms drawn from a key
  split from `key`; on x itself in evaluation."""
  if train and key is not None:
    k_aug, key = jax.random.split(key)
    x = augment.diff_augment(x, k_aug, policy, p)
  return _apply(module, params, model_state, x, key, train)


def _split_variables(variables):
  variables = dict(variables)
  return variables.pop("params"), variables


def make(config, image_shape) -> Experiment:
  _check(config)
  m, obj, tc = config.model, config.objective, config.train
  k = int(obj.d_steps)
  gen, disc = build_networks(config, image_shape)
  tx_g = make_optimizer(config.optim, tc.num_steps)
  tx_d = make_optimizer(config.optim_disc, tc.num_steps * k, "optim_disc")
  g_apply = functools.partial(_apply, gen)
  policy = augment_policy(config)
  # Without augmentation D's apply is exactly the plain one (the same keys reach dropout).
  d_apply = (
    functools.partial(_augmented_apply, disc, policy) if policy else functools.partial(_apply, disc)
  )
  ada = augment.ada_options(obj, policy)
  centre = augment.undecided_score(obj.discriminator_loss)
  d_loss_fn = functools.partial(
    discriminator_objective,
    kind=obj.discriminator_loss,
    # .get: workdirs trained before these fields existed still load.
    r1_gamma=obj.get("r1_gamma", 0.0),
    r2_gamma=obj.get("r2_gamma", 0.0),
  )
  g_loss_fn = functools.partial(
    generator_objective,
    lambda p, s, z: g_apply(p, s, z),
    kind=obj.generator_loss,
    latent_dim=m.latent_dim,
    prior=obj.latent_prior,
  )
  latent = functools.partial(sample_latent, dim=m.latent_dim, prior=obj.latent_prior)

  def init(key):
    k_g, k_d = jax.random.split(key)
    g_params, g_state = _split_variables(gen.init(k_g, jnp.zeros((2, m.latent_dim)), train=False))
    d_params, d_state = _split_variables(
      disc.init({"params": k_d, "dropout": k_d}, jnp.zeros((2, *image_shape)), train=False)
    )
    state = {
      "gen": TrainState.create(g_params, tx_g, model_state=g_state),
      "disc": TrainState.create(d_params, tx_d, model_state=d_state),
    }
    if ada:
      state["ada"] = augment.ada_init()
    return state

  def train_step(state, batch, key):
    g, d = state["gen"], state["disc"]
    real = batch["image"]
    n = real.shape[0] // k
    p = state["ada"]["p"] if ada else None
    d_score = functools.partial(d_apply, p=p) if ada else d_apply
    d_logs, real_logits = [], []
    for i in range(k):  # k is static and small: unrolled.
      k_z, k_d = jax.random.split(jax.random.fold_in(key, i))
      # G's BatchNorm statistics from this forward pass are dropped: a D step leaves G as is.
      fake, _ = g_apply(g.params, g.model_state, latent(k_z, n))
      (d_loss, aux), grads = jax.value_and_grad(
        functools.partial(d_loss_fn, d_score), argnums=0, has_aux=True
      )(d.params, {"image": real[i * n : (i + 1) * n]}, k_d, model_state=d.model_state, fake=fake)
      d = d.apply_gradients(grads, tx_d, **ema_options(tc), model_state=aux["model_state"])
      real_logits.append(aux["real_logits"])
      d_logs.append(
        {
          "d_loss": d_loss,
          "d_grad_norm": optax.tree.norm(grads),
          "d_real": jnp.mean(d_value(aux["real_logits"], obj.discriminator_loss)),
          "d_fake": jnp.mean(d_value(aux["fake_logits"], obj.discriminator_loss)),
          "d_real_sign": jnp.mean(jnp.sign(aux["real_logits"] - centre)),
          **{name: aux[name] for name in ("r1", "r2") if name in aux},
        }
      )

    # D's own BatchNorm statistics are not updated while G trains against it.
    judge = lambda x, key: d_score(d.params, d.model_state, x, key)[0]
    (g_loss, g_aux), g_grads = jax.value_and_grad(g_loss_fn, has_aux=True)(
      g.params,
      {"image": real[:n]},
      jax.random.fold_in(key, k),
      model_state=g.model_state,
      disc=judge,
    )
    g = g.apply_gradients(g_grads, tx_g, **ema_options(tc), model_state=g_aux["model_state"])
    metrics = {
      f"train/{name}": jnp.mean(jnp.stack([log[name] for log in d_logs])) for name in d_logs[0]
    }
    metrics.update(
      {
        "train/g_loss": g_loss,
        "train/g_grad_norm": optax.tree.norm(g_grads),
        "train/d_fake_after": jnp.mean(d_value(g_aux["fake_logits"], obj.discriminator_loss)),
      }
    )
    new_state = {"gen": g, "disc": d}
    if ada:
      new_state["ada"] = augment.ada_step(
        state["ada"], real_logits, centre=centre, step=g.step, **ada
      )
      metrics["train/ada_p"] = p
    return new_state, metrics

  def generate(params, model_state, z):
    return g_apply(params, model_state, z, train=False)[0]

  def eval_step(state, batch, key):
    g, d = state["gen"], state["disc"]
    x = batch["image"]
    fake = generate(g.ema_params, g.model_state, latent(key, x.shape[0]))
    real_logits = d_apply(d.params, d.model_state, x, train=False)[0]
    fake_logits = d_apply(d.params, d.model_state, fake, train=False)[0]
    return {
      "eval/d_real": d_value(real_logits, obj.discriminator_loss),
      "eval/d_fake": d_value(fake_logits, obj.discriminator_loss),
      "eval/d_loss": losses.discriminator_loss(real_logits, fake_logits, obj.discriminator_loss),
    }

  def sample(state, key, n):
    g = state["gen"]
    return generate(g.ema_params, g.model_state, latent(key, n))

  def figures(state, ctx):
    g = state["gen"]
    return gan_figures.make_all(
      state,
      ctx,
      generate=jax.jit(lambda z: generate(g.ema_params, g.model_state, z)),
      latent=jax.jit(latent, static_argnums=1),
      d_is_probability=obj.discriminator_loss in _PROBABILISTIC,
    )

  return Experiment(
    init=init, train_step=train_step, eval_step=eval_step, sample=sample, figures=figures
  )
