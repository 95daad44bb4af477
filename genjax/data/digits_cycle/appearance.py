"""The known map T between the two domains of `digits_cycle`, its inverse, and the
best intensity-only regression of T (a baseline for translation error).

T(x) = -shift(x): contrast inverted and the digit moved down and right by one source
pixel (size // 8 pixels), cyclically so that T is a bijection on every image. Both parts
are exact on the stored uint8 data (255 - v is -x on [-1, 1]; a roll only permutes
pixels), so T^-1(T(x)) = x holds bit for bit. The shift is what an intensity-only map
cannot express; a convolutional generator can.
"""

import jax.numpy as jnp
import numpy as np


def _xp(x):
  return np if isinstance(x, np.ndarray) else jnp


def shift_of(height: int) -> int:
  """Pixels T moves a digit of side `height` (one pixel of the 8x8 source)."""
  return max(height // 8, 1)


def transform(x):
  """Domain A -> B on images in [-1, 1], [..., H, W, C] (numpy or jax)."""
  s = shift_of(x.shape[-3])
  return -_xp(x).roll(x, (s, s), axis=(-3, -2))


def inverse_transform(y):
  """Domain B -> A: T^-1(y) = shift^-1(-y)."""
  s = shift_of(y.shape[-3])
  return _xp(y).roll(-y, (-s, -s), axis=(-3, -2))


def transform_uint8(image: np.ndarray) -> np.ndarray:
  """T on stored uint8 pixels [..., H, W, C] (0 = black): 255 - v is -x on [-1, 1]."""
  s = shift_of(image.shape[-3])
  return (255 - np.roll(image, (s, s), axis=(-3, -2))).astype(np.uint8)


def fit_intensity_map(x: np.ndarray, y: np.ndarray, levels: int = 256) -> np.ndarray:
  """The least-squares map from a pixel's intensity to its target, fitted on pairs.

  x, y: images in [-1, 1] of the same shape. Returns a table of `levels` values: entry v
  is the mean of y over pixels whose x falls in level v, which minimises the squared
  error among all functions of the intensity alone (levels never seen map linearly).
  """
  idx = _level(x, levels).ravel()
  sums = np.bincount(idx, weights=np.asarray(y, np.float64).ravel(), minlength=levels)
  counts = np.bincount(idx, minlength=levels)
  seen = counts > 0
  grid = np.linspace(-1.0, 1.0, levels)
  table = np.interp(grid, grid[seen], sums[seen] / counts[seen])
  return table.astype(np.float32)


def apply_intensity_map(table: np.ndarray, x: np.ndarray) -> np.ndarray:
  return table[_level(x, len(table))]


def _level(x, levels: int) -> np.ndarray:
  return np.clip(np.rint((np.asarray(x) + 1.0) / 2.0 * (levels - 1)), 0, levels - 1).astype(
    np.int64
  )
