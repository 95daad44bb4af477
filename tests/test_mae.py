"""The masked autoencoder: patches, masking, the masked-patch loss, the encoder's blindness
to masked pixels, and one run through the loop with its figures and probe."""

import json
import os

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import experiments
from experiments import mae
from genjax import patches as P
from genjax.errors import ConfigError
from genjax.nn.vit import MAE
from genjax.train.loop import train_and_evaluate


def test_patchify_then_unpatchify_is_the_identity_and_orders_patches_row_major():
  x = jax.random.normal(jax.random.key(0), (2, 12, 8, 3))
  p = P.patchify(x, 4)
  assert p.shape == (2, 6, 48)
  np.testing.assert_array_equal(np.asarray(P.unpatchify(p, 4, (3, 2), 3)), np.asarray(x))
  # Patch 3 is row 1, column 1 of the 3x2 grid; its pixels flatten as (row, col, channel).
  np.testing.assert_array_equal(np.asarray(p[1, 3]), np.asarray(x[1, 4:8, 4:8].reshape(-1)))


@pytest.mark.parametrize(
  "n, ratio, keep", [(49, 0.75, 12), (49, 0.8, 9), (10, 0.8, 2), (64, 0.75, 16)]
)
def test_mask_keeps_exactly_the_configured_fraction_with_distinct_indices(n, ratio, keep):
  assert P.num_kept(n, ratio) == keep
  ids_keep, mask, ids_restore = P.random_masking(jax.random.key(1), 64, n, keep)
  ids_keep, mask, ids_restore = map(np.asarray, (ids_keep, mask, ids_restore))
  assert ids_keep.shape == (64, keep)
  assert all(len(set(row)) == keep for row in ids_keep)
  np.testing.assert_array_equal(mask.sum(1), n - keep)
  # The kept indices are exactly the unmasked positions, and ids_restore is a permutation.
  for b in range(64):
    np.testing.assert_array_equal(np.sort(ids_keep[b]), np.flatnonzero(mask[b] == 0))
    np.testing.assert_array_equal(np.sort(ids_restore[b]), np.arange(n))
  # Masks differ between examples (per-example noise), and every position gets masked.
  assert len({tuple(m) for m in mask}) > 1 and mask.sum(0).min() > 0


def test_unusable_ratios_are_rejected():
  with pytest.raises(ValueError):
    P.num_kept(49, 0.99)
  with pytest.raises(ValueError):
    P.num_kept(49, 0.0)


def test_loss_ignores_visible_patches_exactly():
  key = jax.random.key(2)
  pred, target = jax.random.normal(key, (2, 2, 6, 5))
  mask = jnp.array([[1.0, 0, 0, 1, 0, 1], [0, 1, 1, 0, 0, 1]])
  base = mae.masked_patch_mse(pred, target, mask)
  changed = pred + 100.0 * (1.0 - mask)[..., None]  # only visible predictions move
  np.testing.assert_array_equal(
    np.asarray(mae.masked_patch_mse(changed, target, mask)), np.asarray(base)
  )
  grad = jax.grad(lambda q: jnp.sum(mae.masked_patch_mse(q, target, mask)))(pred)
  assert np.all(np.asarray(grad)[np.asarray(mask) == 0] == 0.0)
  assert np.all(np.abs(np.asarray(grad)[np.asarray(mask) == 1]) > 0)


def test_mae_loss_equals_a_hand_computation():
  # One 2x4 grey image, patch 2 -> two patches of 4 pixels; keep 1, mask 1.
  x = jnp.array([[1.0, 2.0, 3.0, 4.0], [5.0, 6.0, 7.0, 8.0]]).reshape(1, 2, 4, 1)
  seen = {}

  def apply_fn(params, images, ids_keep, ids_restore):
    seen["keep"] = int(ids_keep[0, 0])
    return jnp.zeros((1, 2, 4))  # predicts 0 for every pixel

  loss, aux = mae.mae_loss(
    apply_fn, None, {"image": x}, jax.random.key(3), patch_size=2, keep=1, norm_pix_loss=False
  )
  patches = {0: [1.0, 2.0, 5.0, 6.0], 1: [3.0, 4.0, 7.0, 8.0]}
  masked = patches[1 - seen["keep"]]
  np.testing.assert_allclose(float(loss), np.mean(np.square(masked)), rtol=1e-6)
  np.testing.assert_array_equal(
    np.asarray(aux["mask"][0]), [1.0 - (seen["keep"] == 0), 1.0 - (seen["keep"] == 1)]
  )
  # With normalised-pixel targets the masked patch's target is (v - mean) / std, ddof 1.
  loss, _ = mae.mae_loss(
    apply_fn, None, {"image": x}, jax.random.key(3), patch_size=2, keep=1, norm_pix_loss=True
  )
  v = np.asarray(masked)
  z = (v - v.mean()) / np.sqrt(v.var(ddof=1) + 1e-6)
  np.testing.assert_allclose(float(loss), np.mean(z**2), rtol=1e-5)


def test_norm_pix_target_normalises_each_patch():
  x = 3.0 * jax.random.normal(jax.random.key(4), (2, 8, 8, 3)) + 1.5
  t = np.asarray(mae.patch_targets(x, 4, norm_pix_loss=True))
  np.testing.assert_allclose(t.mean(-1), 0.0, atol=1e-5)
  np.testing.assert_allclose(t.var(-1, ddof=1), 1.0, atol=1e-4)
  # A blank patch stays finite (zero), as eps intends.
  blank = np.asarray(mae.patch_targets(jnp.ones((1, 4, 4, 1)), 4, norm_pix_loss=True))
  np.testing.assert_array_equal(blank, 0.0)
  # Un-normalising with the true patch statistics gives the pixels back.
  back = mae.to_pixels(jnp.asarray(t), x, 4, norm_pix_loss=True)
  np.testing.assert_allclose(np.asarray(back), np.asarray(P.patchify(x, 4)), atol=1e-4)


def _tiny_mae():
  return MAE(
    image_shape=(8, 8, 1),
    patch_size=2,
    width=16,
    depth=2,
    num_heads=2,
    decoder_width=8,
    decoder_depth=1,
    decoder_heads=2,
  )


def test_encoder_sees_only_kept_patches():
  model = _tiny_mae()
  x = jax.random.normal(jax.random.key(5), (3, 8, 8, 1))
  ids_keep, mask, ids_restore = P.random_masking(jax.random.key(6), 3, 16, 4)
  params = jax.jit(model.init)(jax.random.key(7), x, ids_keep, ids_restore)["params"]
  encode = lambda img: model.apply({"params": params}, img, ids_keep, method="encode")
  assert jax.eval_shape(encode, x).shape == (3, 4, 16)  # a real gather: 4 tokens, not 16
  grad = jax.jit(jax.grad(lambda img: jnp.sum(jnp.sin(encode(img)))))(x)
  pixel_mask = np.asarray(P.unpatchify(jnp.broadcast_to(mask[..., None], (3, 16, 4)), 2, (4, 4), 1))
  g = np.asarray(grad)
  assert np.all(g[pixel_mask == 1] == 0.0) and np.all(np.abs(g[pixel_mask == 0]).sum() > 0)
  # The position embedding is the fixed sin-cos one, not a parameter.
  assert not any(
    "pos" in "/".join(map(str, k)) for k, _ in jax.tree_util.tree_flatten_with_path(params)[0]
  )
  # The decoder predicts every patch, and features pool all tokens of the full image.
  shape = lambda *a, **kw: jax.eval_shape(lambda: model.apply({"params": params}, *a, **kw)).shape
  assert shape(x, ids_keep, ids_restore) == (3, 16, 4)
  assert shape(x, method="features") == (3, 16)


def test_sincos_2d_matches_its_definition():
  emb = P.sincos_2d(8, (2, 3))
  assert emb.shape == (6, 8)
  # Patch 4 = row 1, column 1: first half encodes the column, second half the row.
  freqs = 1.0 / 10000 ** (np.arange(2) / 2.0)
  expect = np.concatenate(
    [np.sin(1 * freqs), np.cos(1 * freqs), np.sin(1 * freqs), np.cos(1 * freqs)]
  )
  np.testing.assert_allclose(emb[4], expect, rtol=1e-6)
  np.testing.assert_allclose(
    emb[2, :4], np.concatenate([np.sin(2 * freqs), np.cos(2 * freqs)]), rtol=1e-6
  )


def test_bad_config_is_one_clear_error():
  from experiments.configs import mae_digits

  c = mae_digits.get_config("smoke")
  c.model.patch_size = 5
  with pytest.raises(ConfigError, match="patch_size"):
    mae.make(c, (28, 28, 1))
  c = mae_digits.get_config("smoke")
  c.model.width = 30
  with pytest.raises(ConfigError, match="divisible by 4"):
    mae.make(c, (28, 28, 1))


def test_smoke_run_trains_evaluates_and_writes_figures(tfds_dir, tmp_path):
  from experiments.configs import mae_digits
  from genjax.train.experiment import FigureContext
  from genjax.train.loop import evaluate_checkpoint, restore_latest

  c = mae_digits.get_config("smoke")
  c.data.data_dir = tfds_dir
  c.train.ema_decay = 0.0
  c.train.num_steps = c.train.eval_every = c.train.checkpoint_every = 10
  workdir = str(tmp_path / "w")
  experiment = experiments.build(c)
  assert experiment.sample is None
  metrics = train_and_evaluate(experiment, c, workdir)
  assert np.isfinite(metrics["eval/loss"])
  # Pixel targets: the pixel-space metric is the objective itself.
  assert metrics["eval/loss"] == pytest.approx(metrics["eval/masked_mse_pixels"])
  step, state = restore_latest(experiment, c, workdir)
  assert step == c.train.num_steps
  figdir = os.path.join(workdir, "figures")
  os.makedirs(figdir)
  paths = experiment.figures(
    state,
    FigureContext(config=c, workdir=workdir, figures_dir=figdir, step=step, key=jax.random.key(0)),
  )
  assert {os.path.basename(p) for p in paths} >= {"reconstructions.png", "mask_ratios.png"}
  # The linear probe is an evaluator, run on the finished workdir (launch.reproduce).
  _, probe = evaluate_checkpoint(experiment, c, workdir, names=["linear_probe"])
  assert 0.0 <= probe["eval/probe_accuracy_random_init"] <= 1.0
  assert probe["eval/probe_accuracy"] > 0.2  # far above chance even after 10 steps
  assert probe["eval/probe_accuracy_pixels"] > 0.5
  _fine_tune_starts_from_the_encoder_of(workdir, state, c, tfds_dir, tmp_path)


def _fine_tune_starts_from_the_encoder_of(workdir, mae_state, mae_config, tfds_dir, tmp_path):
  """mae_finetune_digits.py: the classifier's encoder is the MAE run's, its head new; a
  run of another architecture or family is refused in one sentence. (Training through
  the loop is the classifier family's, tested with the feature net.)"""
  from experiments.configs import mae_finetune_digits
  from genjax.errors import CheckpointError
  from genjax.train.checkpoint import graft

  f = mae_finetune_digits.get_config("smoke")
  f.data.data_dir = tfds_dir
  f.model.mae = mae_config.model.copy_and_resolve_references()
  f.model.init_from = workdir
  f.train.num_steps = f.train.eval_every = f.train.checkpoint_every = 2
  experiment = experiments.build(f)
  params = jax.eval_shape(experiment.init, jax.random.key(0)).params
  assert set(params) == {"mae", "fc_norm", "head"} and "decoder" not in params["mae"]
  start = jax.jit(experiment.init)(jax.random.key(0)).params  # eager: 117 small compiles
  same = jax.tree.map(
    lambda a, b: bool(np.array_equal(a, b)),
    start["mae"],
    {k: mae_state.ema_params[k] for k in start["mae"]},
  )
  assert all(jax.tree.leaves(same))
  f.model.mae.num_heads = 1  # invisible in the shapes, so compared by name
  with pytest.raises(ConfigError, match="num_heads=1, but the MAE run"):
    experiments.build(f)
  with pytest.raises(CheckpointError, match="does not fit this model"):
    graft({"patch_embed": {"kernel": jnp.zeros((3, 3))}}, mae_state.ema_params, "MAE run")
  f.model.mae.num_heads = mae_config.model.num_heads
  with open(os.path.join(workdir, "config.json"), encoding="utf-8") as fh:
    saved = json.load(fh)
  other = tmp_path / "not_mae"  # the same checkpoint, labelled as another family's run
  os.makedirs(other)
  os.symlink(os.path.join(workdir, "checkpoints"), other / "checkpoints")
  with open(other / "config.json", "w", encoding="utf-8") as fh:
    json.dump(dict(saved, family="classifier"), fh)
  f.model.init_from = str(other)
  with pytest.raises(ConfigError, match="not an MAE one"):
    experiments.build(f)


def test_cifar10_config_trains_on_mock_colour_images(tmp_path):
  from experiments.configs import mae_cifar10
  from genjax import data as gdata

  c = mae_cifar10.get_config("smoke")
  c.data.data_dir = str(tmp_path / "tfds")
  c.train.num_steps = 2
  c.train.checkpoint_every = 2
  c.data.batch_size = c.data.eval_batch_size = 10
  with gdata.mock_catalog(num_examples=10):
    assert gdata.image_shape(c.data) == (32, 32, 3)
    metrics = train_and_evaluate(experiments.build(c), c, str(tmp_path / "w"))
  # Normalised-pixel targets: the objective and the pixel-space error now differ.
  assert np.isfinite(metrics["eval/loss"]) and np.isfinite(metrics["eval/masked_mse_pixels"])
