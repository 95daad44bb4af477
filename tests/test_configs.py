"""Every config loads; the paper-scale ones train on mock TFDS data through the real
loading code (the flax examples' pattern: no download, same pipeline)."""

import glob
import importlib
import os

import jax
import numpy as np
import pytest

import experiments
from genjax import data as gdata
from genjax.train import preflight
from genjax.train.loop import train_and_evaluate

CONFIGS = sorted(
  os.path.basename(p)[:-3]
  for p in glob.glob(os.path.join(os.path.dirname(experiments.__file__), "configs", "*.py"))
  if not p.endswith(("__init__.py", "base.py"))
)


@pytest.mark.parametrize("name", CONFIGS)
def test_config_loads_with_and_without_smoke(name):
  module = importlib.import_module(f"experiments.configs.{name}")
  full, smoke = module.get_config(), module.get_config("smoke")
  assert full.family in experiments.FAMILIES
  assert smoke.train.num_steps <= 50 < full.train.num_steps
  for c in (full, smoke):
    assert c.data.batch_size > 0 and c.optim.learning_rate > 0 and c.data.name
    # The launch's own checks of every field that needs no data (types, ranges, every
    # cadence a multiple of train.steps_per_dispatch: PixelCNN's five).
    preflight.check_fields(c)
  # The full-size model is built and initialised in shapes only (no FLOPs): a paper
  # config whose sizes its family refuses fails here, not at its first launch.
  if full.model.get("init_from"):  # starts from a trained run (tests/test_mae.py): the
    full.model.init_from = ""  # same model from scratch has the same shapes
  state = jax.eval_shape(experiments.build(full).init, jax.random.key(0))
  assert jax.tree.leaves(state)


@pytest.mark.parametrize("name", ["vae_mnist", "vae_binarized_mnist"])
def test_paper_config_trains_on_mock_data(name, tmp_path):
  c = importlib.import_module(f"experiments.configs.{name}").get_config("smoke")
  c.data.data_dir = str(tmp_path / "tfds")
  c.train.num_steps = 2
  c.train.checkpoint_every = 2
  c.train.sample_every = 0
  c.data.eval_batch_size = 10
  with gdata.mock_catalog(num_examples=10, max_value=2 if "binarized" in name else None):
    metrics = train_and_evaluate(experiments.build(c), c, str(tmp_path / "w"))
  assert np.isfinite(metrics["eval/elbo"]) and metrics["eval/iw_nll"] > 0
