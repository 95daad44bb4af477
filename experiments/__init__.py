"""One module per family; `build(config)` turns a config into the family's Experiment."""

import importlib

from genjax import data as gdata
from genjax.errors import ConfigError

FAMILIES = ("vae", "classifier", "autoencoder", "mae", "gan", "cyclegan", "ddpm", "autoregressive")


def build(config):
  """The Experiment bundle of `config.family`, sized for `config.data`'s images."""
  if config.family not in FAMILIES:
    raise ConfigError(f"family must be one of {FAMILIES}, not {config.family!r}.")
  module = importlib.import_module(f"experiments.{config.family}")
  return module.make(config, gdata.image_shape(config.data))
