"""Image patches for vision transformers and the masked autoencoder (He et al. 2021).

Pure functions: patchify / unpatchify, per-example random masking by argsort of uniform
noise, per-patch target normalisation, and the fixed 2-D sin-cos position embedding.
Patches are numbered row-major over the (H/p, W/p) grid; a patch's pixels are flattened
in (row, column, channel) order, as MAE's reference code does.
"""

import math

import jax
import jax.numpy as jnp
import numpy as np


def grid_shape(image_shape, patch_size: int) -> tuple[int, int]:
  """(rows, columns) of patches; the image must tile exactly."""
  h, w = image_shape[0], image_shape[1]
  if h % patch_size or w % patch_size:
    raise ValueError(f"images of {h}x{w} do not tile into {patch_size}x{patch_size} patches.")
  return h // patch_size, w // patch_size


def patchify(images, patch_size: int):
  """[B, H, W, C] -> [B, N, p*p*C] with N = (H/p)(W/p)."""
  b, h, w, c = images.shape
  gh, gw = grid_shape((h, w), patch_size)
  x = images.reshape(b, gh, patch_size, gw, patch_size, c)
  x = x.transpose(0, 1, 3, 2, 4, 5)
  return x.reshape(b, gh * gw, patch_size * patch_size * c)


def unpatchify(patches, patch_size: int, grid: tuple[int, int], channels: int):
  """[B, N, p*p*C] -> [B, H, W, C]; the inverse of `patchify`."""
  b = patches.shape[0]
  gh, gw = grid
  x = patches.reshape(b, gh, gw, patch_size, patch_size, channels)
  x = x.transpose(0, 1, 3, 2, 4, 5)
  return x.reshape(b, gh * patch_size, gw * patch_size, channels)


def num_kept(num_patches: int, mask_ratio: float) -> int:
  """Visible patches per image: floor(N (1 - ratio)) as MAE's code, the same for every
  image so shapes stay static. The small epsilon keeps 1 - 0.8 = 0.19999... from
  losing a whole patch to floating point (49 x 0.2 must give 9, 10 x 0.2 must give 2)."""
  keep = int(math.floor(num_patches * (1.0 - mask_ratio) + 1e-6))
  if not 0 < keep < num_patches:
    raise ValueError(
      f"mask ratio {mask_ratio} keeps {keep} of {num_patches} patches; "
      "at least one must be visible and one masked."
    )
  return keep


def random_masking(key, batch_size: int, num_patches: int, keep: int):
  """Per-example random subsets of `keep` visible patches.

  Returns (ids_keep [B, keep], mask [B, N] with 1 = masked, ids_restore [B, N]).
  Sorting uniform noise gives a uniformly random permutation per example; its first
  `keep` entries are visible, and `ids_restore` (the inverse permutation) puts the
  shuffled sequence [visible, masked] back in patch order.
  """
  noise = jax.random.uniform(key, (batch_size, num_patches))
  ids_shuffle = jnp.argsort(noise, axis=1)
  ids_restore = jnp.argsort(ids_shuffle, axis=1)
  ids_keep = ids_shuffle[:, :keep]
  shuffled_mask = jnp.concatenate(
    [jnp.zeros((batch_size, keep)), jnp.ones((batch_size, num_patches - keep))], axis=1
  )
  mask = jnp.take_along_axis(shuffled_mask, ids_restore, axis=1)
  return ids_keep, mask, ids_restore


def gather_tokens(tokens, ids):
  """tokens [B, N, D], ids [B, K] -> tokens[b, ids[b]] of shape [B, K, D]."""
  return jnp.take_along_axis(tokens, ids[..., None], axis=1)


def patch_stats(patches, eps: float = 1e-6):
  """Per-patch mean and standard deviation over its pixels, as MAE's norm_pix_loss:
  torch's `var` is the unbiased one, hence ddof=1; eps keeps blank patches finite."""
  mean = jnp.mean(patches, axis=-1, keepdims=True)
  var = jnp.var(patches, axis=-1, keepdims=True, ddof=1)
  return mean, jnp.sqrt(var + eps)


def normalize_patches(patches, eps: float = 1e-6):
  """The normalised-pixel target: each patch minus its mean, over its std."""
  mean, std = patch_stats(patches, eps)
  return (patches - mean) / std


def sincos_1d(embed_dim: int, positions) -> np.ndarray:
  """[len(positions), embed_dim]: sin of position x frequency, then cos (Vaswani 2017)."""
  if embed_dim % 2:
    raise ValueError(f"a sin-cos embedding needs an even width, not {embed_dim}.")
  omega = 1.0 / 10000 ** (np.arange(embed_dim // 2, dtype=np.float64) / (embed_dim / 2.0))
  out = np.einsum("m,d->md", np.asarray(positions, np.float64).reshape(-1), omega)
  return np.concatenate([np.sin(out), np.cos(out)], axis=1)


def sincos_2d(embed_dim: int, grid: tuple[int, int]) -> np.ndarray:
  """[rows*cols, embed_dim] fixed 2-D position embedding of MAE: half the channels
  encode the column, half the row, each a 1-D sin-cos embedding; row-major patches."""
  if embed_dim % 4:
    raise ValueError(f"a 2-D sin-cos embedding needs a width divisible by 4, not {embed_dim}.")
  gh, gw = grid
  rows, cols = np.meshgrid(np.arange(gh), np.arange(gw), indexing="ij")
  emb = np.concatenate([sincos_1d(embed_dim // 2, cols), sincos_1d(embed_dim // 2, rows)], axis=1)
  return emb.astype(np.float32)
