"""The two-domain digits set: T and T^-1, the builder's disjoint domains, and the
pipeline's two-domain batches, paired eval and clear errors."""

import jax.numpy as jnp
import ml_collections
import numpy as np
import pytest

from genjax import data as gdata
from genjax.data.digits import digits as digits_lib
from genjax.data.digits_cycle import appearance

SIZES = {"trainA": 674, "trainB": 673, "testA": 150, "testB": 150}


@pytest.fixture
def cfg(tfds_dir):
  return ml_collections.ConfigDict(
    dict(
      name="digits_cycle/8x8",
      data_dir=tfds_dir,
      batch_size=6,
      eval_batch_size=64,
      binarize="none",
      image_size=0,
      download=False,
      domains=("trainA", "trainB"),
    )
  )


@pytest.mark.parametrize("xp", [np, jnp])
def test_transform_and_inverse_are_inverse_and_not_trivial(xp):
  x = xp.asarray(np.random.default_rng(0).uniform(-1, 1, (3, 16, 16, 1)), xp.float32)
  np.testing.assert_array_equal(
    np.asarray(appearance.inverse_transform(appearance.transform(x))), np.asarray(x)
  )
  np.testing.assert_array_equal(
    np.asarray(appearance.transform(appearance.inverse_transform(x))), np.asarray(x)
  )
  tx = np.asarray(appearance.transform(x))
  assert not np.allclose(tx, -np.asarray(x))  # more than inversion
  assert not np.allclose(np.asarray(appearance.transform(tx)), x)  # not an involution
  # One source pixel (16 // 8 = 2) down and right, contrast inverted.
  np.testing.assert_array_equal(tx[:, 2:, 2:], -np.asarray(x)[:, :-2, :-2])


def test_uint8_transform_is_the_float_transform_on_stored_pixels():
  u = np.random.default_rng(1).integers(0, 256, (2, 8, 8, 1)).astype(np.uint8)
  to_float = lambda v: v.astype(np.float32) / 255 * 2 - 1
  np.testing.assert_allclose(
    to_float(appearance.transform_uint8(u)), appearance.transform(to_float(u)), atol=1e-6
  )


def test_intensity_map_is_least_squares_over_levels():
  x = np.array([-1.0, -1.0, 1.0, 1.0, 1.0])
  y = np.array([0.0, 2.0, 3.0, 3.0, 6.0])
  table = appearance.fit_intensity_map(x, y, levels=3)
  np.testing.assert_allclose(table, [1.0, 2.5, 4.0])  # level 0 (unseen): interpolated
  np.testing.assert_allclose(appearance.apply_intensity_map(table, x), [1, 1, 4, 4, 4])


def test_builder_splits_two_disjoint_halves_with_b_transformed(cfg):
  info = gdata.dataset_info(cfg.name, cfg.data_dir)
  assert info.num_examples == SIZES
  from sklearn.datasets import load_digits  # pylint: disable=import-outside-toplevel

  raw = digits_lib.to_uint8(load_digits().images)
  for source, (a, b) in {"train": ("trainA", "trainB"), "test": ("testA", "testB")}.items():
    expected = sorted(raw[i].tobytes() for i in range(len(raw)) if digits_lib.split_of(i) == source)
    src_a = gdata.open_source(cfg.name, a, cfg.data_dir)
    src_b = gdata.open_source(cfg.name, b, cfg.data_dir)
    got_a = [np.asarray(src_a[i]["image"])[..., 0] for i in range(len(src_a))]
    # B is stored as T(x): T^-1 gives back real digits of the other half.
    got_b = [
      np.asarray(255 - np.roll(np.asarray(src_b[i]["image"]), (-1, -1), (0, 1)))[..., 0]
      for i in range(len(src_b))
    ]
    assert sorted(g.tobytes() for g in got_a + got_b) == expected


def test_two_domain_batches_shuffle_each_domain_and_resume_exactly(cfg):
  it = gdata.make_train_iterator(cfg, seed=3)
  first = next(it)
  assert set(first) == {"image_a", "image_b", "label_a", "label_b"}
  assert first["image_a"].shape == first["image_b"].shape == (6, 8, 8, 1)
  # Domain B is inverted: its background (most pixels) is white.
  assert np.median(first["image_b"]) > 0.5 > -0.5 > np.median(first["image_a"])
  state = it.get_state()
  ahead = [next(it) for _ in range(120)]  # past an epoch boundary of both domains
  again = gdata.make_train_iterator(cfg, seed=3)
  again.set_state(state)
  for want in ahead:
    got = next(again)
    for key in want:
      np.testing.assert_array_equal(got[key], want[key])
  # Each domain goes through its own split once per epoch, in its own order.
  labels_a = np.concatenate([first["label_a"]] + [b["label_a"] for b in ahead])
  labels_b = np.concatenate([first["label_b"]] + [b["label_b"] for b in ahead])
  src_a = gdata.open_source(cfg.name, "trainA", cfg.data_dir)
  want = np.bincount([int(src_a[i]["label"]) for i in range(len(src_a))], minlength=10)
  np.testing.assert_array_equal(np.bincount(labels_a[:674], minlength=10), want)
  assert not np.array_equal(labels_a[:100], labels_b[:100])


def test_paired_eval_covers_both_test_splits_in_order(cfg):
  batches = list(gdata.iterate_eval(cfg, "testA,testB"))
  mask = np.concatenate([b["mask"] for b in batches]) > 0
  assert mask.sum() == 150
  image_a = np.concatenate([b["image_a"] for b in batches])[mask]
  image_b = np.concatenate([b["image_b"] for b in batches])[mask]
  np.testing.assert_array_equal(image_a, gdata.load_split(cfg, "testA")["image"])
  np.testing.assert_array_equal(image_b, gdata.load_split(cfg, "testB")["image"])


def test_a_missing_domain_is_one_clear_error(cfg):
  cfg.domains = ("trainA", "trainC")
  with pytest.raises(gdata.DatasetError, match="lacks the domain split 'trainC'"):
    gdata.make_train_iterator(cfg, seed=0)
  with pytest.raises(gdata.DatasetError, match="lacks the domain split 'testC'"):
    gdata.iterate_eval(cfg, "testA,testC")
  cfg.domains = ("trainA",)
  with pytest.raises(gdata.DatasetError, match="two different splits"):
    gdata.make_train_iterator(cfg, seed=0)
  cfg.name, cfg.domains = "digits/8x8", ("trainA", "trainB")
  with pytest.raises(gdata.DatasetError, match="lacks the domain split 'trainA'"):
    gdata.make_train_iterator(cfg, seed=0)
