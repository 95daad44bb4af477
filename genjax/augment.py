"""Differentiable augmentation for GAN discriminators (DiffAugment, Zhao et al. 2020).

D sees T(x) for real images and T(G(z)) for fakes, in its own loss and in G's, with T a
random transform through which gradients reach G. D then cannot memorise a small
training set as easily, and since every transform is applied to fakes as well, G is not
pushed to produce augmented-looking images. The transforms and their ranges are the
paper's code's, for images in [-1, 1] (NHWC):

- color: brightness + U(-0.5, 0.5); saturation (x - channel mean) * U(0, 2) + channel
  mean (the identity for one channel); contrast (x - image mean) * U(0.5, 1.5) + mean;
- translation: a shift of up to 1/8 of each side, in whole pixels, zeros shifted in;
- cutout: a zeroed square of half the side at a uniformly drawn centre.

Each example draws its own parameters from `key`; the same key gives the same transform
of every batch of the same shape, real or fake. Pure functions of (images, key).
"""

from typing import Sequence

import jax
import jax.numpy as jnp

from genjax import config_checks
from genjax.errors import ConfigError

POLICIES = ("color", "translation", "cutout")


def parse_policy(text: str) -> tuple:
  """ "translation,cutout" -> ("translation", "cutout"); "" -> () (no augmentation)."""
  names = tuple(p.strip() for p in text.split(",") if p.strip())
  for name in names:
    if name not in POLICIES:
      raise ValueError(f"unknown augmentation {name!r}; known: {', '.join(POLICIES)}.")
  if len(set(names)) != len(names):
    raise ValueError(f"augmentation {text!r} names a transform twice.")
  return names


def translate(x, shifts, fill: float = 0.0):
  """out[b, i, j] = x[b, i + shifts[b, 0], j + shifts[b, 1]], `fill` where that index
  falls outside the image: a positive shift moves the content up / left."""
  b, h, w, _ = x.shape
  rows = jnp.arange(h)[None, :] + shifts[:, :1]  # [B, H]
  cols = jnp.arange(w)[None, :] + shifts[:, 1:]  # [B, W]
  inside = ((rows >= 0) & (rows < h))[:, :, None] & ((cols >= 0) & (cols < w))[:, None, :]
  gathered = x[
    jnp.arange(b)[:, None, None],
    jnp.clip(rows, 0, h - 1)[:, :, None],
    jnp.clip(cols, 0, w - 1)[:, None, :],
  ]
  return jnp.where(inside[..., None], gathered, jnp.asarray(fill, x.dtype))


def cutout(x, tops_lefts, size: Sequence[int]):
  """x with the size[0] x size[1] rectangle from tops_lefts[b] = (top, left) zeroed
  (clipped at the image's edges)."""
  _, h, w, _ = x.shape
  rows = jnp.arange(h)[None, :] - tops_lefts[:, :1]
  cols = jnp.arange(w)[None, :] - tops_lefts[:, 1:]
  hole = ((rows >= 0) & (rows < size[0]))[:, :, None] & ((cols >= 0) & (cols < size[1]))[:, None, :]
  return jnp.where(hole[..., None], jnp.zeros((), x.dtype), x)


def _uniform(key, b, low, high, dtype):
  return jax.random.uniform(key, (b, 1, 1, 1), dtype, low, high)


def _color(x, key):
  k_b, k_s, k_c = jax.random.split(key, 3)
  b = x.shape[0]
  x = x + _uniform(k_b, b, -0.5, 0.5, x.dtype)
  mean = jnp.mean(x, axis=-1, keepdims=True)
  x = (x - mean) * _uniform(k_s, b, 0.0, 2.0, x.dtype) + mean
  mean = jnp.mean(x, axis=(1, 2, 3), keepdims=True)
  return (x - mean) * _uniform(k_c, b, 0.5, 1.5, x.dtype) + mean


def _translation(x, key, ratio: float = 0.125):
  b, h, w, _ = x.shape
  k_y, k_x = jax.random.split(key)
  sy, sx = int(h * ratio + 0.5), int(w * ratio + 0.5)
  shifts = jnp.concatenate(
    [
      jax.random.randint(k_y, (b, 1), -sy, sy + 1),
      jax.random.randint(k_x, (b, 1), -sx, sx + 1),
    ],
    axis=1,
  )
  return translate(x, shifts)


def _cutout(x, key, ratio: float = 0.5):
  b, h, w, _ = x.shape
  k_y, k_x = jax.random.split(key)
  size = (int(h * ratio + 0.5), int(w * ratio + 0.5))
  # The paper's code: a centre in [0, side + (1 - size % 2)), the hole from centre - size // 2.
  centre = jnp.concatenate(
    [
      jax.random.randint(k_y, (b, 1), 0, h + 1 - size[0] % 2),
      jax.random.randint(k_x, (b, 1), 0, w + 1 - size[1] % 2),
    ],
    axis=1,
  )
  return cutout(x, centre - jnp.array([size[0] // 2, size[1] // 2]), size)


_TRANSFORMS = {"color": _color, "translation": _translation, "cutout": _cutout}


def diff_augment(x, key, policy: Sequence[str], p=None):
  """T(x): the transforms named in `policy` (see POLICIES), in that order, each with its
  own key folded from `key`. Differentiable in x; () returns x unchanged.

  With a probability `p` (a traced scalar in [0, 1], ADA's adaptive probability, Karras et
  al. 2020), each transform is applied to each example independently with probability p
  and skipped otherwise: p = 0 is the identity, p = 1 the same T(x) as p = None."""
  for i, name in enumerate(policy):
    k = jax.random.fold_in(key, i)
    y = _TRANSFORMS[name](x, k)
    if p is not None:
      apply = jax.random.uniform(jax.random.fold_in(k, len(POLICIES)), (x.shape[0], 1, 1, 1)) < p
      y = jnp.where(apply, y, x)
    x = y
  return x


def ada_options(objective, policy: tuple):
  """ADA's settings from a GAN family's objective section (ada_target, ada_interval,
  ada_max_images), or None when ada_target is 0 (off); one clear error for bad values or
  for ADA without transforms to adapt."""
  if not objective.get("ada_target", 0.0):
    return None
  config_checks.real("objective.ada_target", objective.ada_target, 0, 1, low_open=True)
  config_checks.integer("objective.ada_interval", objective.ada_interval, 1)
  config_checks.real("objective.ada_max_images", objective.ada_max_images, 0, low_open=True)
  if not policy:
    raise ConfigError(
      "objective.ada_target adapts the probability of objective.augment's transforms: "
      "name some (e.g. augment='translation,cutout') or set ada_target=0."
    )
  return dict(
    target=float(objective.ada_target),
    interval=int(objective.ada_interval),
    max_images=float(objective.ada_max_images),
  )


def undecided_score(loss: str) -> float:
  """D's output when it cannot tell real from fake, the centre of ADA's sign: 1/2 for
  lsgan (targets 1 for real images, 0 for fakes), 0 for a logit or hinge score."""
  return 0.5 if loss == "lsgan" else 0.0


def ada_init() -> dict:
  """ADA's state: p, and the signs of D(real) summed over `images` real images since p
  last moved."""
  return {name: jnp.zeros((), jnp.float32) for name in ("p", "signs", "images")}


def ada_step(a: dict, real_scores, *, centre: float, step, target, interval, max_images):
  """ADA's state after one train step: the signs of this step's D(real) scores (a list,
  one per D update, [B] or a patch discriminator's [B, ...]: an example's sign is the mean
  over its patches; `centre` is D's undecided output) added up, and every `interval`
  steps (`step`: the steps done, this one included) p moved by ada_update and the sums
  started again."""
  per_example = lambda s: jnp.mean(jnp.sign(s - centre).reshape(s.shape[0], -1), axis=1)
  signs = a["signs"] + sum(jnp.sum(per_example(s)) for s in real_scores)
  images = a["images"] + sum(s.shape[0] for s in real_scores)
  due = step % interval == 0
  moved = ada_update(a["p"], signs, target=target, images=images, max_images=max_images)
  zero = jnp.zeros((), jnp.float32)
  return {
    "p": jnp.where(due, moved, a["p"]),
    "signs": jnp.where(due, zero, signs),
    "images": jnp.where(due, zero, images),
  }


def ada_update(p, signs, *, target: float, images: float, max_images: float):
  """ADA's controller (Karras et al. 2020): r = E[sign(D(real))] over the last few batches,
  `signs` summed over `images` real images; p moves by images / max_images towards more
  augmentation when r > target (D is confident on real images: it is overfitting) and
  towards less when r < target, clipped to [0, 1]. max_images is how many real images it
  takes p to go from 0 to 1 (the paper's 500,000)."""
  r = signs / images
  return jnp.clip(p + jnp.sign(r - target) * images / max_images, 0.0, 1.0)
