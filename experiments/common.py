"""Small helpers every experiment module shares."""
import functools
import logging

import jax.numpy as jnp

from genjax.errors import ConfigError

_DTYPES = {"float32": jnp.float32, "bfloat16": jnp.bfloat16}


def compute_dtype(config):
  name = config.train.compute_dtype
  if name not in _DTYPES:
    raise ConfigError(f"train.compute_dtype must be one of {sorted(_DTYPES)}, not {name!r}.")
  return _DTYPES[name]


@functools.lru_cache(maxsize=None)
def warn_once(message: str) -> None:
  logging.warning(message)


def int_tuple(config, path: str) -> tuple:
  """config value at "a.b" as a tuple of positive ints, or one clear error."""
  section, _, name = path.rpartition(".")
  value = config[section][name] if section else config[name]
  if not isinstance(value, (tuple, list)) or not all(
      isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in value):
    raise ConfigError(f"{path} must be a tuple of positive integers, not {value!r}.")
  return tuple(value)
