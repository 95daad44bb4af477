"""The classifier behind sample-quality metrics: trained once per data_dir, then reused."""
import importlib
import logging
import os

from genjax import data as gdata
from genjax.eval.feature_net import FeatureNet, load_feature_net
from genjax.train.loop import train_and_evaluate


def feature_net_dir(config) -> str:
  if config.eval.feature_net_dir:
    return os.path.expanduser(config.eval.feature_net_dir)
  return os.path.join(gdata.resolve_data_dir(config.data.data_dir or None),
                      "genjax_feature_nets", config.eval.feature_net.replace(":", "_"))


def ensure_feature_net(config) -> FeatureNet | None:
  """Loads the configured classifier, training it first (through the same loop) if needed."""
  if not config.eval.feature_net or config.eval.fd_num_samples <= 0:
    return None
  import experiments  # pylint: disable=import-outside-toplevel
  workdir = feature_net_dir(config)
  module, _, arg = config.eval.feature_net.partition(":")
  net_cfg = importlib.import_module(f"experiments.configs.{module}").get_config(arg)
  net_cfg.data.data_dir = config.data.data_dir
  if not _finished(workdir, net_cfg.train.num_steps):
    logging.info("Training the feature network %s into %s (once per data_dir).",
                 config.eval.feature_net, workdir)
    train_and_evaluate(experiments.build(net_cfg), net_cfg, workdir)
  name = module.removeprefix("classifier_")
  return load_feature_net(workdir, name)


def _finished(workdir: str, num_steps: int) -> bool:
  return os.path.isdir(os.path.join(workdir, "checkpoints", str(num_steps)))


def for_figures(ctx) -> FeatureNet | None:
  """The feature net a figure function should use: the one the loop passed, else (as
  when launch.reproduce runs on its own) the run's configured classifier."""
  if ctx.feature_net is not None or not ctx.config.eval.feature_net:
    return ctx.feature_net
  return ensure_feature_net(ctx.config)
