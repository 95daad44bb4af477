"""CycleGAN (Zhu et al. 2017): unpaired translation X <-> Y with generators G: X -> Y and
F: Y -> X, discriminators D_X and D_Y, LSGAN adversarial losses in both directions,
cycle consistency, the optional identity loss and the image history pool.

Domain X is data split A ('image_a'), Y is B ('image_b'). One pure step moves the
generators jointly by the generator objective and each discriminator by its own loss
only; the fakes each discriminator sees come from its image pool, kept in the state.

Options for the discriminators, off by default (as in experiments/gan.py): DiffAugment of
every image a discriminator sees while training, real or fake, in its loss and in the
generators' (objective.augment), and the R1 / R2 gradient penalties on its real / fake
inputs (objective.r1_gamma, r2_gamma), and spectral normalisation of every conv
(model.disc_spectral_norm, Miyato et al. 2018), each discriminator's power-iteration
vectors in its TrainState's model_state ('batch_stats'). Only a discriminator's own step
updates them (a power iteration per pass, real then fake); the generators' objective
judges with them as they are. model.disc_instance_norm=False drops the discriminators'
instance norm, which would otherwise cancel the normalisation of every conv but the
output (see genjax/nn/cyclegan.py). With spectral normalisation off a discriminator has
no model state, as before the option existed.

Every network is applied as apply_fn(params, model_state, x, net=..., train=...) ->
(output, model_state); the generators have no model state.
"""

import functools

import jax
import jax.numpy as jnp

from experiments import common, cyclegan_figures
from genjax import augment, image_pool, losses
from genjax import config_checks as checks
from genjax import data as gdata
from genjax.data.digits_cycle import appearance
from genjax.errors import ConfigError
from genjax.nn.cyclegan import PatchDiscriminator, ResnetGenerator
from genjax.train.experiment import Experiment
from genjax.train.optim import make_optimizer
from genjax.train.state import TrainState, ema_options

GENERATORS = ("G", "F")
DISCRIMINATORS = ("D_X", "D_Y")


def generator_objective(
  apply_fn,
  params,
  batch,
  key,
  *,
  disc_params,
  disc_state=None,
  gan_loss: str,
  lambda_cycle: float,
  lambda_identity: float,
  augment_policy: tuple = (),
  ada_p=None,
):
  """What G and F minimise jointly; `params` = {"G", "F"}, the discriminators fixed:
  `disc_params` and `disc_state` ({"D_X", "D_Y"}; state {} for none) are read, never
  updated.

  adv: (D_Y(G(x)) - 1)^2 + (D_X(F(y)) - 1)^2 for LSGAN; cycle: λ(|F(G(x)) - x|₁ +
  |G(F(y)) - y|₁); identity: λ_id·λ(|G(y) - y|₁ + |F(x) - x|₁) (L1s are per-pixel means).
  With an `augment_policy` the discriminators judge T(fake), T drawn from `key` (each
  transform applied with probability ada_p[D] when ADA's `ada_p` = {"D_X", "D_Y"} is
  given); otherwise the loss is deterministic given the batch.
  """
  x, y = batch["image_a"], batch["image_b"]
  disc_state = disc_state or {}
  gen = lambda net, v: apply_fn(params[net], {}, v, net="generator")[0]
  disc = lambda net, v: apply_fn(disc_params[net], disc_state.get(net, {}), v, net="discriminator")[
    0
  ]
  fake_y, fake_x = gen("G", x), gen("F", y)
  seen_y, seen_x = fake_y, fake_x
  if augment_policy:
    k_y, k_x = jax.random.split(key)
    p = ada_p or {}
    seen_y = augment.diff_augment(fake_y, k_y, augment_policy, p.get("D_Y"))
    seen_x = augment.diff_augment(fake_x, k_x, augment_policy, p.get("D_X"))
  adv_g = jnp.mean(losses.generator_loss(disc("D_Y", seen_y), gan_loss))
  adv_f = jnp.mean(losses.generator_loss(disc("D_X", seen_x), gan_loss))
  cycle = jnp.mean(
    losses.mean_absolute_error(gen("F", fake_y), x)
    + losses.mean_absolute_error(gen("G", fake_x), y)
  )
  identity = jnp.zeros(())
  if lambda_identity > 0:
    identity = jnp.mean(
      losses.mean_absolute_error(gen("G", y), y) + losses.mean_absolute_error(gen("F", x), x)
    )
  loss = adv_g + adv_f + lambda_cycle * cycle + lambda_identity * lambda_cycle * identity
  return loss, {
    "adv_G": adv_g,
    "adv_F": adv_f,
    "cycle": cycle,
    "identity": identity,
    "fake_x": fake_x,
    "fake_y": fake_y,
  }


def discriminator_objective(
  apply_fn,
  params,
  batch,
  key,
  *,
  gan_loss: str,
  model_state=None,
  augment_policy: tuple = (),
  r1_gamma: float = 0.0,
  r2_gamma: float = 0.0,
  ada_p=None,
):
  """What one discriminator minimises: batch = {"real", "fake"} images of its domain,
  each seen through DiffAugment (transforms drawn from `key`, each applied with ADA's
  probability `ada_p` when it is given) when `augment_policy` is given, plus the R1 / R2
  gradient penalties (through the augmentation) when their weights are positive. D runs
  in training mode on real, then fake images, its `model_state` threaded through both;
  aux["model_state"] is the updated one, aux["real_scores"] its scores of the reals."""
  k_real, k_fake = jax.random.split(key) if augment_policy else (None, None)

  def scores(v, k, gamma, state):
    d = lambda u: apply_fn(
      params,
      state,
      augment.diff_augment(u, k, augment_policy, ada_p) if augment_policy else u,
      net="discriminator",
      train=True,
    )
    if gamma <= 0:
      return *d(v), None
    penalty, out, state = losses.gradient_penalty(d, v, gamma, has_aux=True)
    return out, state, jnp.mean(penalty)

  state = model_state if model_state is not None else {}
  real, state, r1 = scores(batch["real"], k_real, r1_gamma, state)
  fake, state, r2 = scores(batch["fake"], k_fake, r2_gamma, state)
  loss = jnp.mean(losses.discriminator_loss(real, fake, gan_loss))
  penalties = {name: v for name, v in (("r1", r1), ("r2", r2)) if v is not None}
  return loss + sum(penalties.values()), {**penalties, "model_state": state, "real_scores": real}


def make_train_step(
  apply_fn,
  tx_gen,
  tx_disc,
  *,
  gan_loss: str,
  lambda_cycle: float,
  lambda_identity: float,
  ema_decay: float,
  ema_warmup: bool = False,
  augment_policy: tuple = (),
  r1_gamma: float = 0.0,
  r2_gamma: float = 0.0,
  ada=None,
):
  """(state, batch, key) -> (state, metrics) over the four networks and both pools (and
  each discriminator's ADA state, state["ada"][D], with `ada`: genjax.augment.ada_options)."""
  gen_loss = functools.partial(
    generator_objective,
    apply_fn,
    gan_loss=gan_loss,
    lambda_cycle=lambda_cycle,
    lambda_identity=lambda_identity,
    augment_policy=augment_policy,
  )
  disc_loss = functools.partial(
    discriminator_objective,
    apply_fn,
    gan_loss=gan_loss,
    augment_policy=augment_policy,
    r1_gamma=r1_gamma,
    r2_gamma=r2_gamma,
  )

  centre = augment.undecided_score(gan_loss)

  def train_step(state, batch, key):
    k_gen, k_pool_x, k_pool_y, k_dx, k_dy = jax.random.split(key, 5)
    gen_params = {n: state[n].params for n in GENERATORS}
    disc_params = {n: state[n].params for n in DISCRIMINATORS}
    disc_state = {n: state[n].model_state for n in DISCRIMINATORS}
    ada_p = {n: state["ada"][n]["p"] for n in DISCRIMINATORS} if ada else None
    # Differentiated with respect to G and F only: the discriminators are constants here,
    # their model state (spectral normalisation's vectors) read and not updated.
    (g_loss, aux), g_grads = jax.value_and_grad(gen_loss, has_aux=True)(
      gen_params, batch, k_gen, disc_params=disc_params, disc_state=disc_state, ada_p=ada_p
    )
    new = dict(state)
    for n in GENERATORS:
      new[n] = state[n].apply_gradients(
        g_grads[n], tx_gen, ema_decay=ema_decay, ema_warmup=ema_warmup
      )
    # As in the paper's code, the discriminators judge the fakes of this step's forward
    # pass (made before the generators' update), mixed with older ones by the pools.
    fake_x, new["pool_X"] = image_pool.query(
      state["pool_X"], jax.lax.stop_gradient(aux["fake_x"]), k_pool_x
    )
    fake_y, new["pool_Y"] = image_pool.query(
      state["pool_Y"], jax.lax.stop_gradient(aux["fake_y"]), k_pool_y
    )
    metrics = {
      "train/loss_G": g_loss,
      "train/adv_G": aux["adv_G"],
      "train/adv_F": aux["adv_F"],
      "train/cycle": aux["cycle"],
      "train/identity": aux["identity"],
    }
    for n, real, fake, k in (
      ("D_X", batch["image_a"], fake_x, k_dx),
      ("D_Y", batch["image_b"], fake_y, k_dy),
    ):
      (d_loss, d_aux), d_grads = jax.value_and_grad(
        lambda params: disc_loss(
          params,
          {"real": real, "fake": fake},
          k,
          model_state=state[n].model_state,
          ada_p=ada_p[n] if ada else None,
        ),
        has_aux=True,
      )(state[n].params)
      new[n] = state[n].apply_gradients(
        d_grads,
        tx_disc,
        ema_decay=ema_decay,
        ema_warmup=ema_warmup,
        model_state=d_aux.pop("model_state"),
      )
      real_scores = d_aux.pop("real_scores")
      if ada:
        new.setdefault("ada", {})[n] = augment.ada_step(
          state["ada"][n], [real_scores], centre=centre, step=new[n].step, **ada
        )
        metrics[f"train/ada_p_{n}"] = ada_p[n]
      metrics[f"train/loss_{n}"] = d_loss
      metrics.update({f"train/{name}_{n}": v for name, v in d_aux.items()})
    return new, metrics

  return train_step


def translation_errors(translate, x, target):
  """Per-example mean absolute and mean squared error of translate(x) against target."""
  d = translate(x) - target
  flat = d.reshape(d.shape[0], -1)
  return jnp.mean(jnp.abs(flat), -1), jnp.mean(jnp.square(flat), -1)


def eval_metrics(g, f, batch, *, known: bool) -> dict:
  """Per-row eval metrics of translators g: A -> B and f: B -> A on a paired eval batch.

  The pass repeats the shorter split's images to pair every row, so each domain's
  metrics are scaled by that domain's 'weight_a' or 'weight_b' (see
  genjax.data.pipeline.paired_rows): the loop's mean over the real rows is then the
  mean over each domain's own images, each counted once.
  """
  x, y = batch["image_a"], batch["image_b"]
  of_a = {"eval/cycle_a": losses.mean_absolute_error(f(g(x)), x)}
  of_b = {"eval/cycle_b": losses.mean_absolute_error(g(f(y)), y)}
  if known:
    tx_, ty_ = appearance.transform(x), appearance.inverse_transform(y)
    of_a["eval/mae_ab"], of_a["eval/mse_ab"] = translation_errors(g, x, tx_)
    of_b["eval/mae_ba"], of_b["eval/mse_ba"] = translation_errors(f, y, ty_)
    of_a["eval/identity_mae_ab"], of_a["eval/identity_mse_ab"] = translation_errors(
      lambda v: v, x, tx_
    )
    of_b["eval/identity_mae_ba"], of_b["eval/identity_mse_ba"] = translation_errors(
      lambda v: v, y, ty_
    )
  return {
    **{k: v * batch["weight_a"] for k, v in of_a.items()},
    **{k: v * batch["weight_b"] for k, v in of_b.items()},
  }


def has_ground_truth(config) -> bool:
  """digits_cycle's domains are related by a known map, so translations can be scored."""
  return config.data.name.split("/")[0] == "digits_cycle"


def patch_scores_side(side: int, num_layers: int) -> int:
  """Side of PatchDiscriminator's score map on side x side images: 4x4 convolutions with
  padding 1, as genjax/nn/cyclegan.py stacks them."""
  strides = [2] + [2 if n < num_layers else 1 for n in range(1, num_layers + 1)] + [1]
  for stride in strides:
    side = (side - 2) // stride + 1
  return side


def _check(config):
  obj = config.objective
  if obj.gan_loss not in losses.GAN_LOSSES:
    raise ConfigError(
      f"objective.gan_loss must be one of {losses.GAN_LOSSES}, not {obj.gan_loss!r}."
    )
  for name in ("lambda_cycle", "lambda_identity"):
    checks.real(f"objective.{name}", obj[name], 0)
  checks.integer("objective.pool_size", obj.pool_size, 0)
  augment.ada_options(obj, augment_policy(config))
  for name in ("r1_gamma", "r2_gamma"):
    checks.real(f"objective.{name}", obj.get(name, 0.0), 0)
  m = config.model
  for name in ("gen_features", "disc_features"):
    checks.integer(f"model.{name}", m[name], 1)
  for name in ("gen_blocks", "disc_layers"):
    checks.integer(f"model.{name}", m[name], 0, checks.MAX_DEPTH)
  for name, default in (("disc_spectral_norm", False), ("disc_instance_norm", True)):
    checks.boolean(f"model.{name}", m.get(name, default))
  if len(tuple(config.data.domains)) != 2:
    raise ConfigError(
      "CycleGAN needs two domains: set data.domains to two train splits, e.g. ('trainA', 'trainB')."
    )
  if len(config.eval.split.split(gdata.PAIR_SEP)) != 2:
    raise ConfigError(
      f"eval.split must name two test splits joined by "
      f"'{gdata.PAIR_SEP}' (e.g. 'testA{gdata.PAIR_SEP}testB'), "
      f"not {config.eval.split!r}."
    )


def augment_policy(config) -> tuple:
  """objective.augment as a tuple of genjax.augment transforms, or one clear error."""
  try:
    return augment.parse_policy(config.objective.get("augment", ""))
  except ValueError as e:
    raise ConfigError(f"objective.augment: {e}") from None


def make(config, image_shape) -> Experiment:
  _check(config)
  m, obj = config.model, config.objective
  dtype = common.compute_dtype(config)
  generator = ResnetGenerator(
    out_channels=image_shape[-1], features=m.gen_features, num_blocks=m.gen_blocks, dtype=dtype
  )
  discriminator = PatchDiscriminator(
    features=m.disc_features,
    num_layers=m.disc_layers,
    # .get: workdirs trained before these fields existed still load.
    spectral_norm=m.get("disc_spectral_norm", False),
    instance_norm=m.get("disc_instance_norm", True),
    dtype=dtype,
  )
  if image_shape[0] % 4 or image_shape[1] % 4:
    raise ConfigError(
      f"CycleGAN's generator needs image sides divisible by 4, not "
      f"{tuple(image_shape[:2])}: set data.image_size."
    )
  side = min(image_shape[0], image_shape[1])
  if patch_scores_side(side, m.disc_layers) < 1:
    fit = max((n for n in range(m.disc_layers) if patch_scores_side(side, n) >= 1), default=0)
    raise ConfigError(
      f"model.disc_layers={m.disc_layers} leaves no patch scores of "
      f"{side}x{side} images; at most {fit} layers fit."
    )
  nets = {"generator": generator, "discriminator": discriminator}

  def apply_fn(params, model_state, x, *, net, train=False):
    """(output, model_state); in training a discriminator's state is updated."""
    variables = {"params": params, **model_state}
    if net == "generator":
      return nets[net].apply(variables, x), model_state
    if train and model_state:
      out, new_state = nets[net].apply(variables, x, train=True, mutable=list(model_state))
      return out, dict(new_state)
    return nets[net].apply(variables, x, train=False), model_state

  tx = make_optimizer(config.optim, config.train.num_steps)
  ada = augment.ada_options(obj, augment_policy(config))
  train_step = make_train_step(
    apply_fn,
    tx,
    tx,
    gan_loss=obj.gan_loss,
    lambda_cycle=obj.lambda_cycle,
    lambda_identity=obj.lambda_identity,
    **ema_options(config.train),
    # .get: workdirs trained before these fields existed still load.
    augment_policy=augment_policy(config),
    r1_gamma=obj.get("r1_gamma", 0.0),
    r2_gamma=obj.get("r2_gamma", 0.0),
    ada=ada,
  )
  known = has_ground_truth(config)

  def init(key):
    x = jnp.zeros((1,) + tuple(image_shape), jnp.float32)
    keys = dict(zip(GENERATORS + DISCRIMINATORS, jax.random.split(key, 4)))
    state = {}
    for n, k in keys.items():
      net = nets["generator" if n in GENERATORS else "discriminator"]
      variables = dict(net.init(k, x) if n in GENERATORS else net.init(k, x, train=False))
      # {} unless spectral normalisation is on: its vectors, in 'batch_stats'.
      params = variables.pop("params")
      state[n] = TrainState.create(params, tx, model_state=variables)
    for n in ("pool_X", "pool_Y"):
      state[n] = image_pool.init(obj.pool_size, tuple(image_shape))
    if ada:  # one p per discriminator
      state["ada"] = {n: augment.ada_init() for n in DISCRIMINATORS}
    return state

  def translators(state):
    return (
      lambda v: apply_fn(state["G"].params, {}, v, net="generator")[0],
      lambda v: apply_fn(state["F"].params, {}, v, net="generator")[0],
    )

  def eval_step(state, batch, key):
    del key
    return eval_metrics(*translators(state), batch, known=known)

  def sample_given(state, batch, key):
    del key
    g, f = translators(state)
    x, y = batch["image_a"], batch["image_b"]
    gx, fy = g(x), f(y)
    return jnp.stack([x, gx, f(gx), y, fy, g(fy)])

  def figures(state, ctx):
    return cyclegan_figures.make_all(state, ctx, translate=jax.jit(sample_given), known=known)

  return Experiment(
    init=init,
    train_step=train_step,
    eval_step=eval_step,
    sample_given=sample_given,
    figures=figures,
  )
