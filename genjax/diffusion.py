"""Gaussian diffusion (Ho et al. 2020) and DDIM sampling (Song et al. 2020): pure math.

Timesteps are 0-based array indices: index i is the paper's t = i + 1, so index 0 is
the last reverse step (x_1 -> x_0) and index T - 1 is the first. Everything here is a
plain function of arrays; an ε-prediction is any `eps_fn(x_t, t_index[B]) -> ε̂` (a
closure over a network's parameters, built inside the caller's jit), and samplers are
`lax.scan`s, jitted by the caller.
"""

import math
from typing import Callable, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from genjax import losses

SCHEDULES = ("linear", "cosine")
VAR_TYPES = ("fixed_large", "fixed_small")

EpsFn = Callable[[jax.Array, jax.Array], jax.Array]


class Schedule(NamedTuple):
  """The forward process's per-step constants, float32 arrays of length T."""

  betas: jax.Array
  alphas_cumprod: jax.Array  # ᾱ_t
  alphas_cumprod_prev: jax.Array  # ᾱ_{t-1}, with ᾱ_0 = 1
  posterior_variance: jax.Array  # β̃_t = β_t (1 - ᾱ_{t-1}) / (1 - ᾱ_t)
  # log β̃_t with β̃_1 = 0 replaced by β̃_2, as Ho et al.'s code, so it stays finite.
  posterior_log_variance_clipped: jax.Array
  posterior_mean_coef1: jax.Array  # multiplies x_0
  posterior_mean_coef2: jax.Array  # multiplies x_t

  @property
  def num_timesteps(self) -> int:
    return self.betas.shape[0]


def betas_for(
  kind: str, num_timesteps: int, *, beta_start: float = 1e-4, beta_end: float = 0.02
) -> np.ndarray:
  """float64 β_1..β_T: "linear" (Ho et al.) or "cosine" (Nichol & Dhariwal 2021, s = 0.008)."""
  if kind == "linear":
    return np.linspace(beta_start, beta_end, num_timesteps, dtype=np.float64)
  if kind == "cosine":
    s = 0.008
    f = np.cos((np.arange(num_timesteps + 1) / num_timesteps + s) / (1 + s) * math.pi / 2) ** 2
    # Clipped as in the paper, so the last steps do not destroy the image in one go.
    return np.minimum(1.0 - f[1:] / f[:-1], 0.999)
  raise ValueError(f"schedule must be one of {SCHEDULES}, not {kind!r}.")


def make_schedule(kind: str, num_timesteps: int, **kwargs) -> Schedule:
  """The schedule's constants, computed in float64 and stored as float32."""
  betas = betas_for(kind, num_timesteps, **kwargs)
  ac = np.cumprod(1.0 - betas)
  ac_prev = np.append(1.0, ac[:-1])
  post_var = betas * (1.0 - ac_prev) / (1.0 - ac)
  post_logvar = np.log(np.append(post_var[1] if num_timesteps > 1 else betas[0], post_var[1:]))
  f32 = lambda a: jnp.asarray(a, jnp.float32)
  return Schedule(
    betas=f32(betas),
    alphas_cumprod=f32(ac),
    alphas_cumprod_prev=f32(ac_prev),
    posterior_variance=f32(post_var),
    posterior_log_variance_clipped=f32(post_logvar),
    posterior_mean_coef1=f32(betas * np.sqrt(ac_prev) / (1.0 - ac)),
    posterior_mean_coef2=f32((1.0 - ac_prev) * np.sqrt(1.0 - betas) / (1.0 - ac)),
  )


def _at(a, t, x):
  """a[t] for a batch of indices, shaped to broadcast against x [B, ...]."""
  return a[t].reshape(t.shape + (1,) * (x.ndim - t.ndim))


# --- Forward process ------------------------------------------------------------------


def q_mean_variance(s: Schedule, x0, t):
  """Mean and variance of q(x_t | x_0) = N(√ᾱ_t x_0, (1 - ᾱ_t) I)."""
  ac = _at(s.alphas_cumprod, t, x0)
  return jnp.sqrt(ac) * x0, jnp.broadcast_to(1.0 - ac, x0.shape)


def q_sample(s: Schedule, x0, t, noise):
  """x_t = √ᾱ_t x_0 + √(1 - ᾱ_t) ε."""
  ac = _at(s.alphas_cumprod, t, x0)
  return jnp.sqrt(ac) * x0 + jnp.sqrt(1.0 - ac) * noise


def q_posterior(s: Schedule, x0, xt, t):
  """Mean, variance and clipped log-variance of q(x_{t-1} | x_t, x_0) (Ho et al. Eq. 6-7)."""
  mean = _at(s.posterior_mean_coef1, t, xt) * x0 + _at(s.posterior_mean_coef2, t, xt) * xt
  var = jnp.broadcast_to(_at(s.posterior_variance, t, xt), xt.shape)
  logvar = jnp.broadcast_to(_at(s.posterior_log_variance_clipped, t, xt), xt.shape)
  return mean, var, logvar


def predict_x0(s: Schedule, xt, t, eps):
  """x̂_0 = (x_t - √(1 - ᾱ_t) ε̂) / √ᾱ_t."""
  ac = _at(s.alphas_cumprod, t, xt)
  return (xt - jnp.sqrt(1.0 - ac) * eps) / jnp.sqrt(ac)


def eps_from_x0(s: Schedule, xt, t, x0):
  ac = _at(s.alphas_cumprod, t, xt)
  return (xt - jnp.sqrt(ac) * x0) / jnp.sqrt(1.0 - ac)


# --- Reverse process ------------------------------------------------------------------


def model_log_variance(s: Schedule, t, x, var_type: str):
  """log Σ_θ(x_t, t): "fixed_large" σ² = β_t (β̃_2 at t = 1, as Ho et al.'s code) or
  "fixed_small" σ² = β̃_t, the two choices of the paper's Section 3.2."""
  if var_type == "fixed_large":
    logvar = jnp.log(jnp.append(s.posterior_variance[1:2], s.betas[1:]))
  elif var_type == "fixed_small":
    logvar = s.posterior_log_variance_clipped
  else:
    raise ValueError(f"var_type must be one of {VAR_TYPES}, not {var_type!r}.")
  return jnp.broadcast_to(_at(logvar, t, x), x.shape)


def p_mean_variance(s: Schedule, eps_fn: EpsFn, xt, t, *, var_type: str, clip_x0: bool):
  """p_θ(x_{t-1} | x_t) = N(μ̃_t(x_t, x̂_0), Σ_θ): (mean, log-variance, x̂_0).

  x̂_0 is clipped to the data range [-1, 1] when `clip_x0`, as the paper's sampler and
  bound computation do.
  """
  x0 = predict_x0(s, xt, t, eps_fn(xt, t))
  if clip_x0:
    x0 = jnp.clip(x0, -1.0, 1.0)
  mean, _, _ = q_posterior(s, x0, xt, t)
  return mean, model_log_variance(s, t, xt, var_type), x0


# --- Variational bound ----------------------------------------------------------------


def normal_kl(mean1, logvar1, mean2, logvar2):
  """Elementwise KL(N(mean1, e^logvar1) || N(mean2, e^logvar2))."""
  return 0.5 * (
    -1.0
    + logvar2
    - logvar1
    + jnp.exp(logvar1 - logvar2)
    + jnp.square(mean1 - mean2) * jnp.exp(-logvar2)
  )


def _sum_but_batch(x):
  return jnp.sum(x.reshape(x.shape[0], -1), axis=-1)


def prior_kl(s: Schedule, x0):
  """L_T = KL(q(x_T | x_0) || N(0, I)) per example, nats."""
  t = jnp.full((x0.shape[0],), s.num_timesteps - 1)
  mean, var = q_mean_variance(s, x0, t)
  return _sum_but_batch(normal_kl(mean, jnp.log(var), 0.0, 0.0))


def vlb_term(s: Schedule, eps_fn: EpsFn, x0, t, noise, *, var_type: str, clip_x0: bool):
  """One term of the bound per example, nats, with x_t = q_sample(x_0, t, noise):
  L_{t-1} = KL(q(x_{t-1}|x_t,x_0) || p_θ(x_{t-1}|x_t)) for t ≥ 2 and the discrete
  decoder L_0 = -log p_θ(x_0|x_1) (the paper's Eq. 13) at t = 1 (index 0).
  x_0 must be on the 256 bin centres."""
  xt = q_sample(s, x0, t, noise)
  true_mean, _, true_logvar = q_posterior(s, x0, xt, t)
  mean, logvar, _ = p_mean_variance(s, eps_fn, xt, t, var_type=var_type, clip_x0=clip_x0)
  kl = _sum_but_batch(normal_kl(true_mean, true_logvar, mean, logvar))
  decoder = -losses.discretized_gaussian_log_prob(x0, mean, logvar)
  return jnp.where(t == 0, decoder, kl)


def vlb_terms(
  s: Schedule, eps_fn: EpsFn, x0, key, *, var_type: str, clip_x0: bool, chunk: int, stride: int = 1
):
  """Every term of the bound for each example: [T // stride, B] nats, row j is the term of
  index j·stride (x_t drawn afresh for each t, keyed by t).

  `lax.map` over chunks of `chunk` timesteps evaluates the network on chunk·B images at
  once. With stride > 1 the rows are a systematic subsample (multiply their sum by
  stride for an estimate of Σ_t); stride 1 is the exact bound.
  """
  num = s.num_timesteps // stride
  if num % chunk:
    raise ValueError(f"{num} timesteps do not split into chunks of {chunk}.")
  ts = (jnp.arange(num) * stride).reshape(-1, chunk)
  b = x0.shape[0]

  def one_chunk(tc):
    noise = jax.vmap(lambda t: jax.random.normal(jax.random.fold_in(key, t), x0.shape))(tc)
    flat = lambda a: a.reshape((-1,) + a.shape[2:])
    x0s = flat(jnp.broadcast_to(x0, (chunk,) + x0.shape))
    t = jnp.repeat(tc, b)
    return vlb_term(s, eps_fn, x0s, t, flat(noise), var_type=var_type, clip_x0=clip_x0).reshape(
      chunk, b
    )

  return jax.lax.map(one_chunk, ts).reshape(num, b)


# --- Samplers -------------------------------------------------------------------------


def ancestral_step(s: Schedule, eps_fn: EpsFn, x, t_scalar, key, *, var_type: str, clip_x0: bool):
  """x_{t-1} ~ p_θ(x_{t-1} | x_t) (the paper's Algorithm 2); no noise at the last step.
  Returns (x_{t-1}, x̂_0)."""
  t = jnp.full((x.shape[0],), t_scalar)
  mean, logvar, x0 = p_mean_variance(s, eps_fn, x, t, var_type=var_type, clip_x0=clip_x0)
  noise = jax.random.normal(key, x.shape, x.dtype)
  return mean + jnp.where(t_scalar > 0, jnp.exp(0.5 * logvar), 0.0) * noise, x0


def make_ancestral_sampler(
  s: Schedule,
  eps_fn: EpsFn,
  *,
  var_type: str = "fixed_large",
  clip_x0: bool = True,
  t_start: int | None = None,
  return_path: bool = False,
):
  """sample(key, x_start) -> x_0 by T (or `t_start`) ancestral steps in one lax.scan.

  x_start is x_T ~ N(0, I) for generation, or a diffused image x_{t_start} (index
  t_start - 1) to denoise from there. With `return_path` the scan also returns x̂_0 at
  every step, [steps, B, ...], first step first (the paper's progressive generation).
  """
  t_start = s.num_timesteps if t_start is None else t_start

  def sample(key, x_start):
    def body(x, inp):
      t, k = inp
      x, x0 = ancestral_step(s, eps_fn, x, t, k, var_type=var_type, clip_x0=clip_x0)
      return x, (x0 if return_path else None)

    ts = jnp.arange(t_start - 1, -1, -1)
    x, path = jax.lax.scan(body, x_start, (ts, jax.random.split(key, t_start)))
    return (x, path) if return_path else x

  return sample


def make_inpainter(
  s: Schedule, eps_fn: EpsFn, *, var_type: str = "fixed_large", clip_x0: bool = True
):
  """inpaint(key, x0_known, mask) -> completions: ancestral sampling in which the pixels
  where mask = 1 are replaced, after every step, by a draw of the known image from
  q(x_{t-1} | x_0) (and by x_0 itself at the end), so only the unknown region is generated."""

  def inpaint(key, x0_known, mask):
    k0, key = jax.random.split(key)
    x_t = jax.random.normal(k0, x0_known.shape)

    def body(x, inp):
      t, k = inp
      k_step, k_known = jax.random.split(k)
      x, _ = ancestral_step(s, eps_fn, x, t, k_step, var_type=var_type, clip_x0=clip_x0)
      prev = jnp.full((x.shape[0],), jnp.maximum(t - 1, 0))
      known = jnp.where(
        t > 0, q_sample(s, x0_known, prev, jax.random.normal(k_known, x.shape)), x0_known
      )
      return mask * known + (1.0 - mask) * x, None

    T = s.num_timesteps
    x, _ = jax.lax.scan(body, x_t, (jnp.arange(T - 1, -1, -1), jax.random.split(key, T)))
    return x

  return inpaint


def ddim_timesteps(num_timesteps: int, num_steps: int) -> np.ndarray:
  """The uniform subsequence τ of the DDIM paper's code: 0, T/S, 2T/S, ... (indices)."""
  if not 1 <= num_steps <= num_timesteps:
    raise ValueError(f"DDIM needs 1 <= steps <= {num_timesteps}, not {num_steps}.")
  return np.arange(0, num_timesteps, num_timesteps // num_steps)[:num_steps]


def ddim_step(s: Schedule, eps_fn: EpsFn, x, t, t_prev, key, *, eta: float, clip_x0: bool):
  """One DDIM update x_t -> x_{t_prev} (Song et al. Eq. 12); t_prev = -1 means x_0.
  Returns (x_prev, x̂_0, mean, σ²): the update is N(mean, σ² I).

  σ² = η² (1 - ᾱ_prev)/(1 - ᾱ_t) (1 - ᾱ_t/ᾱ_prev) (Eq. 16); with η = 1 and t_prev = t - 1
  that is the posterior variance β̃_t and the mean is μ̃_t(x_t, x̂_0).
  """
  tb = jnp.full((x.shape[0],), t)
  eps = eps_fn(x, tb)
  x0 = predict_x0(s, x, tb, eps)
  if clip_x0:
    # ε̂ is made consistent with the clipped x̂_0, so that the update still is the
    # posterior mean given x̂_0.
    x0 = jnp.clip(x0, -1.0, 1.0)
    eps = eps_from_x0(s, x, tb, x0)
  ac = s.alphas_cumprod[t]
  ac_prev = jnp.where(t_prev >= 0, s.alphas_cumprod[jnp.maximum(t_prev, 0)], 1.0)
  var = eta**2 * (1.0 - ac_prev) / (1.0 - ac) * (1.0 - ac / ac_prev)
  mean = jnp.sqrt(ac_prev) * x0 + jnp.sqrt(jnp.maximum(1.0 - ac_prev - var, 0.0)) * eps
  x_prev = mean + jnp.sqrt(var) * jax.random.normal(key, x.shape, x.dtype)
  return x_prev, x0, mean, var


def make_ddim_sampler(
  s: Schedule,
  eps_fn: EpsFn,
  *,
  num_steps: int,
  eta: float = 0.0,
  clip_x0: bool = True,
  return_path: bool = False,
):
  """sample(key, x_T) -> x_0 by S = num_steps DDIM steps in one lax.scan; η = 0 is the
  deterministic sampler, η = 1 with S = T the ancestral one with σ² = β̃_t."""
  taus = ddim_timesteps(s.num_timesteps, num_steps)[::-1]
  prevs = np.append(taus[1:], -1)

  def sample(key, x_T):
    def body(x, inp):
      t, t_prev, k = inp
      x, x0, _, _ = ddim_step(s, eps_fn, x, t, t_prev, k, eta=eta, clip_x0=clip_x0)
      return x, (x0 if return_path else None)

    keys = jax.random.split(key, len(taus))
    x, path = jax.lax.scan(body, x_T, (jnp.asarray(taus), jnp.asarray(prevs), keys))
    return (x, path) if return_path else x

  return sample
