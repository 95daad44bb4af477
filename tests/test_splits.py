"""Split strings resolved to records: held-out splits are held out of training."""

import glob
import importlib
import os

import pytest

import experiments
from genjax import data as gdata
from genjax.errors import ConfigError

MNIST = {"train": 60000, "test": 10000}
# Train-split sizes of the catalog datasets whose configs hold out part of "train".
SIZES = {"mnist": MNIST, "cifar10": {"train": 50000, "test": 10000}}


@pytest.mark.parametrize(
  "a, b",
  [
    ("train[:50000]", "train[50000:]"),
    ("train[:-10000]", "train[-10000:]"),  # negative bounds, from the split's end
    ("train[:50%]", "train[50%:]"),
    ("train[:100]+train[200:]", "train[100:200]"),
    ("train", "test"),
    ("validation", "train"),  # different splits need no sizes
  ],
)
def test_disjoint(a, b):
  assert not gdata.splits_overlap(a, b, MNIST)
  assert not gdata.splits_overlap(b, a, MNIST)


@pytest.mark.parametrize(
  "a, b",
  [
    ("train", "train[50000:]"),
    ("train[:50001]", "train[50000:]"),
    ("train[:90%]", "train[-10000:]"),  # 54000 > 50000
    ("train[10:20]+test", "test[:1]"),
    ("all", "train[5:6]"),
  ],
)
def test_overlapping(a, b):
  assert gdata.splits_overlap(a, b, MNIST)
  assert gdata.splits_overlap(b, a, MNIST)


def test_different_splits_need_no_sizes():
  assert not gdata.splits_overlap("validation", "train[:50000]", {})
  assert gdata.shared_splits("validation", "train[:50000]") == set()
  assert gdata.shared_splits("train[:5]+test", "train[9:]") == {"train"}


def test_refusals_are_config_errors():
  with pytest.raises(ConfigError, match="size of split 'train'"):
    gdata.splits_overlap("train[:10]", "train[10:]", {})
  with pytest.raises(ConfigError, match="not a TFDS split string"):
    gdata.splits_overlap("train[:10", "train", MNIST)
  with pytest.raises(ConfigError, match="does not fit"):
    gdata.splits_overlap("train[:70000]", "train", MNIST)


def _configs():
  names = sorted(
    os.path.basename(p)[:-3]
    for p in glob.glob(os.path.join(os.path.dirname(experiments.__file__), "configs", "*.py"))
    if not p.endswith(("__init__.py", "base.py"))
  )
  for name in names:
    module = importlib.import_module(f"experiments.configs.{name}")
    for arg in (None, "smoke"):
      c = module.get_config(arg)
      if "parzen_valid_split" in c.eval:
        yield f"{name}({arg or ''})", c


def test_every_parzen_validation_split_is_held_out_of_training():
  checked = 0
  for name, c in _configs():
    sizes = SIZES.get(c.data.name.split("/")[0], {})
    valid, train = c.eval.parzen_valid_split, gdata.train_split(c.data)
    assert not gdata.splits_overlap(valid, train, sizes), (name, valid, train)
    checked += 1
  assert checked >= 10  # gan and dcgan on digits, mnist, cifar10, celeb_a
