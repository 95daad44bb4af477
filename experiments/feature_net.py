"""The classifier behind sample-quality metrics: trained once per data_dir, then reused."""

import importlib
import os

import jax

from genjax import data as gdata
from genjax.errors import ConfigError
from genjax.eval.feature_net import FeatureNet, load_feature_net
from genjax.train import multihost
from genjax.train.loop import train_and_evaluate


def feature_net_dir(config) -> str:
  if config.eval.feature_net_dir:
    return os.path.expanduser(config.eval.feature_net_dir)
  return os.path.join(
    gdata.resolve_data_dir(config.data.data_dir or None),
    "genjax_feature_nets",
    config.eval.feature_net.replace(":", "_"),
  )


def net_config(config):
  """The config that trains `config`'s feature network, or None when it has none."""
  if not config.eval.feature_net or config.eval.fd_num_samples <= 0:
    return None
  value = config.eval.feature_net
  module, _, arg = value.partition(":")
  try:
    get_config = importlib.import_module(f"experiments.configs.{module}").get_config
  except (ImportError, AttributeError, ValueError, TypeError):
    raise ConfigError(
      f"eval.feature_net={value!r} names no config of experiments/configs "
      "(such as 'classifier_digits')."
    ) from None
  try:
    net_cfg = get_config(arg)
  except ValueError as e:  # an unknown variant after the colon
    raise ConfigError(f"eval.feature_net={value!r}: {e}") from None
  if net_cfg.family != "classifier":
    raise ConfigError(
      f"eval.feature_net={value!r} is a {net_cfg.family!r} config, not a classifier's."
    )
  return net_cfg


def ensure_feature_net(config) -> FeatureNet | None:
  """Loads the configured classifier, training it first (through the same loop) if needed.

  In a multi-process run every process calls this: process 0 decides whether the
  classifier must be trained, all processes then train it together (the loop is data
  parallel over all of them) and all read it, and an error on any process is the same
  one sentence on every process.
  """
  net_cfg = net_config(config)  # a bad name fails here, before anything trains
  if net_cfg is None:
    return None
  import experiments  # pylint: disable=import-outside-toplevel

  workdir = feature_net_dir(config)
  name = config.eval.feature_net.partition(":")[0].removeprefix("classifier_")

  def train_if_missing():
    net_cfg.data.data_dir = config.data.data_dir
    if multihost.process_zero_decides(_finished(workdir, net_cfg.train.num_steps)):
      return
    if jax.process_index() == 0:
      print(
        f"Training the digit classifier {config.eval.feature_net} whose features "
        f"define eval/fd_{name} (once per data directory, into {workdir}):",
        flush=True,
      )
    train_and_evaluate(experiments.build(net_cfg), net_cfg, workdir)
    if jax.process_index() == 0:
      print(f"Classifier trained; now the {config.family} run.", flush=True)

  multihost.on_every_process(train_if_missing, "training the feature network")
  return multihost.on_every_process(
    lambda: load_feature_net(workdir, name), "reading the feature network"
  )


def _finished(workdir: str, num_steps: int) -> bool:
  return os.path.isdir(os.path.join(workdir, "checkpoints", str(num_steps)))
