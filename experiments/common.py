"""Small helpers every experiment module shares."""

import functools
import logging

import jax.numpy as jnp

from genjax.errors import ConfigError
from genjax.nn.mlp import ACTIVATIONS

_DTYPES = {"float32": jnp.float32, "bfloat16": jnp.bfloat16}


def compute_dtype(config):
  name = config.train.compute_dtype
  if name not in _DTYPES:
    raise ConfigError(f"train.compute_dtype must be one of {sorted(_DTYPES)}, not {name!r}.")
  return _DTYPES[name]


@functools.lru_cache(maxsize=None)
def warn_once(message: str) -> None:
  logging.warning(message)


def choice(path: str, value, allowed) -> None:
  """value of field `path` must be one of `allowed`, or one clear error."""
  if value not in allowed:
    raise ConfigError(f"{path} must be one of {tuple(allowed)}, not {value!r}.")


def activation(path: str, value) -> None:
  choice(path, value, tuple(ACTIVATIONS))


def halvings(path: str, channels: tuple, image_shape) -> None:
  """A stride-2 stack of len(channels) layers needs image sides it can halve that often."""
  h, w = image_shape[0], image_shape[1]
  if h % 2 ** len(channels) or w % 2 ** len(channels):
    raise ConfigError(
      f"{path} has {len(channels)} entries, so the image size ({h}x{w}) "
      f"must be divisible by {2 ** len(channels)}."
    )


def int_tuple(config, path: str, *, non_empty: bool = False) -> tuple:
  """config value at "a.b" as a tuple of positive ints (at least one when `non_empty`),
  or one clear error."""
  section, _, name = path.rpartition(".")
  value = config[section][name] if section else config[name]
  if (
    not isinstance(value, (tuple, list))
    or not all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in value)
    or (non_empty and not value)
  ):
    kind = "a non-empty tuple" if non_empty else "a tuple"
    raise ConfigError(f"{path} must be {kind} of positive integers, not {value!r}.")
  return tuple(value)
