"""Denoising diffusion probabilistic models (Ho et al. 2020) with DDIM sampling (Song et
al. 2020): the ε-prediction loss L_simple, the full variational bound in bits/dim, and
ancestral or DDIM samples from the EMA parameters."""

import functools

import jax
import jax.numpy as jnp
import optax

from experiments import common, ddpm_figures
from genjax import config_checks as checks
from genjax import diffusion
from genjax.errors import ConfigError
from genjax.eval import likelihood
from genjax.nn.unet import UNet
from genjax.train.experiment import Experiment
from genjax.train.optim import make_optimizer
from genjax.train.state import TrainState, ema_options

SAMPLERS = ("ancestral", "ddim")
DDIM_STEPS = (10, 20, 50, 100)  # the sampler_sweep evaluator's DDIM rows (those below T)
MAX_TIMESTEPS = 100_000


def random_flip(key, x):
  """Each image mirrored left-right with probability 1/2."""
  flip = jax.random.bernoulli(key, 0.5, (x.shape[0], 1, 1, 1))
  return jnp.where(flip, x[:, :, ::-1], x)


def simple_loss(apply_fn, params, batch, key, *, schedule, flip: bool, train: bool = True):
  """L_simple (Ho et al. Eq. 14): E_{t ~ U{1..T}, ε} ‖ε − ε_θ(√ᾱ_t x_0 + √(1−ᾱ_t) ε, t)‖²,
  the squared error averaged over pixels as the paper's code. Returns (loss, per-example)."""
  k_t, k_eps, k_drop, k_flip = jax.random.split(key, 4)
  x0 = batch["image"]
  if flip:
    x0 = random_flip(k_flip, x0)
  t = jax.random.randint(k_t, (x0.shape[0],), 0, schedule.num_timesteps)
  eps = jax.random.normal(k_eps, x0.shape)
  pred = apply_fn(
    params, diffusion.q_sample(schedule, x0, t, eps), t, train=train, rngs={"dropout": k_drop}
  )
  per = jnp.mean(jnp.square(eps - pred).reshape(x0.shape[0], -1), axis=-1)
  return jnp.mean(per), per


def bound_metrics(terms, prior, image_shape) -> dict:
  """Per-example eval metrics from the [T, B] bound terms (nats) and the prior KL [B]:
  the total in nats and bits/dim, and its parts L_T, Σ_{t≥2} L_{t−1}, L_0 in bits/dim."""
  decoder, kls = terms[0], jnp.sum(terms[1:], axis=0)
  bpd = lambda v: likelihood.bits_per_dim(v, image_shape)
  return {
    **likelihood.nll_metrics(prior + kls + decoder, image_shape),
    "eval/prior_bpd": bpd(prior),
    "eval/diffusion_bpd": bpd(kls),
    "eval/decoder_bpd": bpd(decoder),
  }


def _check(config, image_shape):
  m, obj, s = config.model, config.objective, config.sample
  if obj.schedule not in diffusion.SCHEDULES:
    raise ConfigError(
      f"objective.schedule must be one of {diffusion.SCHEDULES}, not {obj.schedule!r}."
    )
  if obj.var_type not in diffusion.VAR_TYPES:
    raise ConfigError(
      f"objective.var_type must be one of {diffusion.VAR_TYPES}, not {obj.var_type!r}."
    )
  if obj.num_timesteps < 2:
    raise ConfigError(f"objective.num_timesteps must be at least 2, not {obj.num_timesteps}.")
  # The schedule's tables and every bound evaluation grow with T (Ho et al.: 1000).
  checks.integer("objective.num_timesteps", obj.num_timesteps, 2, MAX_TIMESTEPS)
  checks.integer("objective.vlb_chunk", obj.vlb_chunk, 1)
  if obj.schedule == "linear":
    for name in ("beta_start", "beta_end"):
      checks.real(f"objective.{name}", obj[name], 0, 1, low_open=True, high_open=True)
  checks.real("sample.ddim_eta", s.ddim_eta, 0)
  if "quality_num" in s:
    checks.integer("sample.quality_num", s.quality_num, 1)
  # The timestep embedding needs two frequencies at least, so four channels.
  checks.integer("model.ch", m.ch, 4)
  checks.integer("model.norm_groups", m.norm_groups, 1)
  checks.depth("model.num_res_blocks", m.num_res_blocks)
  if obj.num_timesteps % obj.vlb_chunk:
    raise ConfigError(
      f"objective.vlb_chunk ({obj.vlb_chunk}) must divide "
      f"objective.num_timesteps ({obj.num_timesteps})."
    )
  if s.sampler not in SAMPLERS:
    raise ConfigError(f"sample.sampler must be one of {SAMPLERS}, not {s.sampler!r}.")
  if not 1 <= s.ddim_steps <= obj.num_timesteps:
    raise ConfigError(f"sample.ddim_steps must be in 1..{obj.num_timesteps}, not {s.ddim_steps}.")
  mult = common.int_tuple(config, "model.ch_mult", non_empty=True)
  for k in mult:
    if (m.ch * k) % m.norm_groups:
      raise ConfigError(
        f"model.norm_groups ({m.norm_groups}) must divide every width "
        f"model.ch × model.ch_mult ({m.ch * k})."
      )
  if image_shape[0] % 2 ** (len(mult) - 1):
    raise ConfigError(
      f"{len(mult) - 1} downsamplings (model.ch_mult) need an image size "
      f"divisible by {2 ** (len(mult) - 1)}, not {image_shape[0]}."
    )
  if not 0.0 <= m.dropout < 1.0:
    raise ConfigError(f"model.dropout must be in [0, 1), not {m.dropout}.")


def make(config, image_shape) -> Experiment:
  _check(config, image_shape)
  m, obj, smp = config.model, config.objective, config.sample
  image_shape = tuple(image_shape)
  model = UNet(
    ch=m.ch,
    ch_mult=common.int_tuple(config, "model.ch_mult"),
    num_res_blocks=m.num_res_blocks,
    attn_resolutions=tuple(m.attn_resolutions),
    dropout=m.dropout,
    groups=m.norm_groups,
    dtype=common.compute_dtype(config),
  )
  schedule = diffusion.make_schedule(
    obj.schedule, obj.num_timesteps, beta_start=obj.beta_start, beta_end=obj.beta_end
  )
  tx = make_optimizer(config.optim, config.train.num_steps)
  apply_fn = lambda p, x, t, **kw: model.apply({"params": p}, x, t, **kw)
  loss_fn = functools.partial(simple_loss, apply_fn, schedule=schedule, flip=obj.random_flip)
  eps_fn_of = lambda params: lambda x, t: apply_fn(params, x, t)
  rev = dict(var_type=obj.var_type, clip_x0=obj.clip_x0)

  def init(key):
    x = jnp.zeros((1,) + image_shape, jnp.float32)
    params = model.init(key, x, jnp.zeros((1,), jnp.int32))["params"]
    return TrainState.create(params, tx)

  def train_step(state, batch, key):
    (loss, _), grads = jax.value_and_grad(loss_fn, has_aux=True)(state.params, batch, key)
    state = state.apply_gradients(grads, tx, **ema_options(config.train))
    return state, {"train/loss": loss, "train/grad_norm": optax.tree.norm(grads)}

  def eval_step(state, batch, key):
    # The bound is for 8-bit images: put the data on the 256 bin centres first.
    x0 = likelihood.from_bins(likelihood.to_bins(batch["image"]))
    terms = diffusion.vlb_terms(
      schedule, eps_fn_of(state.ema_params), x0, key, chunk=obj.vlb_chunk, **rev
    )
    metrics = bound_metrics(terms, diffusion.prior_kl(schedule, x0), image_shape)
    metrics["eval/loss_simple"] = simple_loss(
      apply_fn, state.ema_params, {"image": x0}, key, schedule=schedule, flip=False, train=False
    )[1]
    return metrics

  def generate(params, key, n, *, sampler, ddim_steps, eta=0.0, return_path=False):
    k_T, k_run = jax.random.split(key)
    x_T = jax.random.normal(k_T, (n,) + image_shape)
    if sampler == "ancestral":
      run = diffusion.make_ancestral_sampler(
        schedule, eps_fn_of(params), **rev, return_path=return_path
      )
    else:
      run = diffusion.make_ddim_sampler(
        schedule,
        eps_fn_of(params),
        num_steps=ddim_steps,
        eta=eta,
        clip_x0=obj.clip_x0,
        return_path=return_path,
      )
    return run(k_run, x_T)

  def sample(state, key, n):
    return generate(
      state.ema_params, key, n, sampler=smp.sampler, ddim_steps=smp.ddim_steps, eta=smp.ddim_eta
    )

  def denoise_from(params, key, x_t, t_start):
    return diffusion.make_ancestral_sampler(schedule, eps_fn_of(params), **rev, t_start=t_start)(
      key, x_t
    )

  def inpaint(params, key, x0, mask):
    return diffusion.make_inpainter(schedule, eps_fn_of(params), **rev)(key, x0, mask)

  def figures(state, ctx):
    return ddpm_figures.make_all(
      state,
      ctx,
      schedule=schedule,
      generate=generate,
      denoise_from=jax.jit(denoise_from, static_argnums=3),
      inpaint=jax.jit(inpaint),
    )

  T = schedule.num_timesteps
  steps = T if smp.sampler == "ancestral" else smp.ddim_steps

  def sampler(name, steps):
    return lambda state, key, n: generate(state.ema_params, key, n, sampler=name, ddim_steps=steps)

  # Song et al.'s Table 1: DDIM (eta = 0) at S steps and at T, and ancestral sampling.
  sweep = [("ddim", s) for s in DDIM_STEPS if s < T] + [("ddim", T), ("ancestral", T)]
  return Experiment(
    init=init,
    train_step=train_step,
    eval_step=eval_step,
    sample=sample,
    figures=figures,
    network_evals_per_sample=steps,
    samplers=tuple((name, s, sampler(name, s)) for name, s in sweep),
  )
