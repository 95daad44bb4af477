"""Optimisers and learning-rate schedules from the `optim` config section."""

import optax

from genjax import config_checks
from genjax.errors import ConfigError

_SCHEDULES = ("constant", "cosine", "linear", "constant_then_linear")
_OPTIMIZERS = ("adam", "adamw", "adagrad", "sgd", "rmsprop")


def check(cfg, section: str = "optim") -> None:
  """Refuses an optimiser section no optimiser can run (`section` names it in errors).

  A learning rate of 0 is allowed here (tests freeze one network with it); a training
  run refuses it in genjax/train/preflight.py.
  """
  if cfg.name not in _OPTIMIZERS:
    raise ConfigError(f"{section}.name must be one of {_OPTIMIZERS}, not {cfg.name!r}.")
  if cfg.schedule not in _SCHEDULES:
    raise ConfigError(f"{section}.schedule must be one of {_SCHEDULES}, not {cfg.schedule!r}.")
  config_checks.real(f"{section}.learning_rate", cfg.learning_rate, 0)
  config_checks.integer(f"{section}.warmup_steps", cfg.warmup_steps, 0)
  for name in ("grad_clip_norm", "weight_decay", "eps", "initial_accumulator_value"):
    config_checks.real(f"{section}.{name}", cfg[name], 0)
  # 1 would divide Adam's bias correction by zero, and momentum 1 never forgets.
  for name in ("b1", "b2", "momentum"):
    config_checks.real(f"{section}.{name}", cfg[name], 0, 1, high_open=True)
  if cfg.name != "adamw" and cfg.weight_decay > 0:
    raise ConfigError(
      f"{section}.weight_decay is only used by {section}.name='adamw'; set it to 0.0."
    )


def make_schedule(cfg, num_steps: int) -> optax.Schedule:
  """Warm-up (linear from 0) followed by the configured decay to 0 at `num_steps`."""
  lr, warmup = cfg.learning_rate, cfg.warmup_steps
  decay_steps = max(num_steps - warmup, 1)
  if cfg.schedule == "constant":
    main = optax.constant_schedule(lr)
  elif cfg.schedule == "cosine":
    main = optax.cosine_decay_schedule(lr, decay_steps)
  elif cfg.schedule == "linear":
    main = optax.linear_schedule(lr, 0.0, decay_steps)
  elif cfg.schedule == "constant_then_linear":
    # CycleGAN's schedule: constant for the first half, then linearly to zero.
    half = decay_steps // 2
    main = optax.join_schedules(
      [optax.constant_schedule(lr), optax.linear_schedule(lr, 0.0, decay_steps - half)], [half]
    )
  else:
    raise ConfigError(f"optim.schedule must be one of {_SCHEDULES}, not {cfg.schedule!r}.")
  if warmup <= 0:
    return main
  return optax.join_schedules([optax.linear_schedule(0.0, lr, warmup), main], [warmup])


def make_optimizer(cfg, num_steps: int, section: str = "optim") -> optax.GradientTransformation:
  check(cfg, section)
  schedule = make_schedule(cfg, num_steps)
  if cfg.name == "adam":
    opt = optax.adam(schedule, b1=cfg.b1, b2=cfg.b2, eps=cfg.eps)
  elif cfg.name == "adamw":
    opt = optax.adamw(schedule, b1=cfg.b1, b2=cfg.b2, eps=cfg.eps, weight_decay=cfg.weight_decay)
  elif cfg.name == "adagrad":
    opt = optax.adagrad(
      schedule, initial_accumulator_value=cfg.initial_accumulator_value, eps=cfg.eps
    )
  elif cfg.name == "sgd":
    opt = optax.sgd(schedule, momentum=cfg.momentum or None)
  elif cfg.name == "rmsprop":
    opt = optax.rmsprop(schedule, decay=cfg.b2, eps=cfg.eps, momentum=cfg.momentum or None)
  else:
    raise ConfigError(f"optim.name must be one of {_OPTIMIZERS}, not {cfg.name!r}.")
  if cfg.grad_clip_norm > 0:
    opt = optax.chain(optax.clip_by_global_norm(cfg.grad_clip_norm), opt)
  return opt
