"""Image grids and figure helpers. Inputs are NHWC; files are written in [0, 1]."""

import math
import os

import jax
import numpy as np


def to_unit(images) -> np.ndarray:
  """[-1, 1] (model space) -> [0, 1] (files, figures)."""
  return np.clip((np.asarray(images, np.float32) + 1.0) / 2.0, 0.0, 1.0)


def make_grid(images, ncol: int | None = None, pad: int = 1, pad_value: float = 1.0) -> np.ndarray:
  """Tiles N images of shape [N, H, W, C] in [0, 1] into one [H', W', C] image."""
  images = np.asarray(images, np.float32)
  n, h, w, c = images.shape
  ncol = ncol or int(math.ceil(math.sqrt(n)))
  nrow = int(math.ceil(n / ncol))
  grid = np.full((nrow * (h + pad) + pad, ncol * (w + pad) + pad, c), pad_value, np.float32)
  for i in range(n):
    r, col = divmod(i, ncol)
    y, x = pad + r * (h + pad), pad + col * (w + pad)
    grid[y : y + h, x : x + w] = images[i]
  return grid


def save_png(path: str, image: np.ndarray, upscale: int = 1) -> str:
  """Saves one HWC image in [0, 1]; small digits get nearest-neighbour upscaling to be seen.

  Only process 0 writes (every process computes the same figure)."""
  if jax.process_index() != 0:
    return path
  from PIL import Image  # pylint: disable=import-outside-toplevel

  img = np.asarray(image, np.float32)
  if upscale > 1:
    img = img.repeat(upscale, axis=0).repeat(upscale, axis=1)
  img = (np.clip(img, 0, 1) * 255).round().astype(np.uint8)
  if img.shape[-1] == 1:
    img = img[..., 0]
  os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
  Image.fromarray(img).save(path)
  return path


def auto_upscale(height: int, target: int = 64) -> int:
  return max(1, target // height)


def save_grid(path: str, images, ncol: int | None = None) -> str:
  """Saves N images in [0, 1] as one grid PNG."""
  images = np.asarray(images)
  return save_png(path, make_grid(images, ncol), upscale=auto_upscale(images.shape[1]))


def save_rows(path: str, rows: list) -> str:
  """Saves several equal-length rows of images (e.g. input / reconstruction) as one grid."""
  rows = [np.asarray(r) for r in rows]
  ncol = rows[0].shape[0]
  return save_grid(path, np.concatenate(rows, axis=0), ncol=ncol)


def save_samples(samples_dir: str, step: int, images) -> str:
  """Samples in [-1, 1] -> samples/step_N.png (grid) and step_N.npz (the arrays, [0, 1])."""
  unit = to_unit(images)
  png = samples_path(samples_dir, step)
  if jax.process_index() != 0:
    return png
  os.makedirs(samples_dir, exist_ok=True)
  np.savez_compressed(png[: -len(".png")] + ".npz", images=unit)
  return save_grid(png, unit)


def samples_path(samples_dir: str, step: int) -> str:
  """Where save_samples puts the grid of `step`'s samples."""
  return os.path.join(samples_dir, f"step_{step:07d}.png")


def line_plot(
  path: str, series: dict, *, xlabel: str, ylabel: str, title: str = "", logx: bool = False
) -> str:
  """series: {label: (xs, ys)}."""
  if jax.process_index() != 0:
    return path
  import matplotlib  # pylint: disable=import-outside-toplevel

  matplotlib.use("Agg")
  import matplotlib.pyplot as plt  # pylint: disable=import-outside-toplevel

  fig, ax = plt.subplots(figsize=(5, 3.5), dpi=120)
  for label, (xs, ys) in series.items():
    ax.plot(xs, ys, label=label)
  if logx:
    ax.set_xscale("log")
  ax.set_xlabel(xlabel)
  ax.set_ylabel(ylabel)
  if title:
    ax.set_title(title)
  ax.grid(alpha=0.3)
  ax.legend()
  fig.tight_layout()
  return save_figure(fig, path)


def save_figure(fig, path: str, **savefig_kwargs) -> str:
  """Writes a matplotlib figure to `path` (making its directory) and closes it."""
  import matplotlib.pyplot as plt  # pylint: disable=import-outside-toplevel

  os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
  fig.savefig(path, **savefig_kwargs)
  plt.close(fig)
  return path


def labeled_rows(path: str, rows: dict, *, title: str = "", note: str = "") -> str:
  """Rows of images in [0, 1], each titled by its key at the left: a figure that says
  what every row is. Rows may differ in length and image size (each is scaled to one
  row height); `note` goes under the rows (units, what the numbers mean)."""
  if jax.process_index() != 0:
    return path
  import matplotlib  # pylint: disable=import-outside-toplevel

  matplotlib.use("Agg")
  import matplotlib.pyplot as plt  # pylint: disable=import-outside-toplevel

  grids = [make_grid(np.asarray(r), ncol=len(r)) for r in rows.values()]
  width = max(g.shape[1] / g.shape[0] for g in grids)
  dpi = 120
  # Rows of large images keep their pixels; small ones are enlarged to be seen.
  row_h = max(0.9, max(g.shape[0] for g in grids) / dpi)
  fig, axes = plt.subplots(
    len(grids),
    1,
    squeeze=False,
    dpi=dpi,
    figsize=(1.6 + row_h * width, row_h * len(grids) + 0.4 * bool(title) + 0.3 * bool(note)),
  )
  for ax, label, grid in zip(axes[:, 0], rows, grids):
    ax.imshow(
      grid[..., 0] if grid.shape[-1] == 1 else grid,
      cmap="gray",
      vmin=0,
      vmax=1,
      interpolation="nearest",
      extent=(0, grid.shape[1] / grid.shape[0], 0, 1),
    )
    ax.set_xlim(0, width)
    ax.set_xticks([])
    ax.set_yticks([])
    for side in ax.spines.values():
      side.set_visible(False)
    ax.set_ylabel(label, rotation=0, ha="right", va="center", fontsize=8)
  if title:
    fig.suptitle(title, fontsize=9)
  if note:
    fig.text(0.5, 0.01, note, ha="center", va="bottom", fontsize=7)
  fig.tight_layout(rect=(0, 0.04 if note else 0, 1, 1))
  # Cropped to what is drawn: equal-aspect rows leave blank margins otherwise.
  return save_figure(fig, path, bbox_inches="tight", pad_inches=0.1)
