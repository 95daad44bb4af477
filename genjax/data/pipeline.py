"""grain input pipelines: per-process shares, [-1, 1] images, resumable.

Record order is the TFDS record order (hash-shuffled once, when the dataset is
prepared, and fixed from then on). Training batch k is one global batch of
cfg.batch_size records, the same whatever the number of processes P: process p
yields its rows [p B/P, (p+1) B/P), so the processes' shares, assembled in process
order, are the batch one process would read, and P processes train as one does
(a resume may change P). Evaluation: process p of P reads records p, p+P, ...

Each pipeline is a grain MapDataset over *batch numbers*: batch k is a pure
function of (config, seed, k), so grain's iterator state (the next k) is all a
checkpoint needs. Shuffling, reading and preprocessing are done per batch with
numpy, because per element they cost far more than a training step on a CPU
(measured: ~100 us/element in grain's shuffle and stats, ~140 us/element to
parse a TFDS record). Small splits are decoded once and kept in memory.
"""

import functools
import math
import sys
from typing import Callable, Iterator

import grain
import ml_collections
import numpy as np
from PIL import Image

from genjax.data.sources import DatasetError, DataSpec, check_domains, dataset_info, open_source
from genjax.data.splits import train_split

Batch = dict[str, np.ndarray]

_BINARIZE = ("none", "threshold", "dynamic")
# A few batches in flight keep the host ahead of the step without holding
# hundreds of them in memory (grain's default buffer is 500 elements).
_READ = grain.ReadOptions(num_threads=4, prefetch_buffer_size=8)
_CACHE_BYTES = 1 << 30  # Splits (eval: shares) up to this size (uint8) are held in memory.
_CHUNK = 1024
# First words of the numpy seed sequences, so the streams never coincide.
_SHUFFLE, _TRAIN_BITS, _EVAL_BITS = 0, 1, 2


def _spec(cfg) -> DataSpec:
  return dataset_info(cfg.name, cfg.data_dir or None)


def image_shape(cfg: ml_collections.ConfigDict) -> tuple[int, int, int]:
  """(H, W, C) of the images the pipelines yield for config section `data`."""
  return _image_shape(cfg, _spec(cfg))


def _image_shape(cfg, spec: DataSpec) -> tuple[int, int, int]:
  h, w, c = spec.image_shape
  if cfg.image_size:
    return (cfg.image_size, cfg.image_size, c)
  if h is None or w is None:
    raise DatasetError(
      f"Dataset '{cfg.name}' has images of varying size: set data.image_size to use it."
    )
  return (h, w, c)


def _local_batch(batch_size: int, process_count: int, what: str) -> int:
  if batch_size <= 0 or batch_size % process_count:
    raise DatasetError(
      f"data.{what}={batch_size} must be a positive multiple "
      f"of the number of processes ({process_count})."
    )
  return batch_size // process_count


def _square(image: np.ndarray, size: int) -> np.ndarray:
  """Centre-crop to a square, then bilinear-resize to size x size."""
  h, w = image.shape[:2]
  s = min(h, w)
  top, left = (h - s) // 2, (w - s) // 2
  image = image[top : top + s, left : left + s]
  if s == size:
    return image
  # Channel by channel, since PIL has no mode for every channel count.
  return np.stack(
    [
      np.asarray(Image.fromarray(image[..., k]).resize((size, size), Image.Resampling.BILINEAR))
      for k in range(image.shape[-1])
    ],
    axis=-1,
  )


def _reader(cfg, split: str, spec: DataSpec):
  """(number of records, indices -> {'image': uint8 [n,H,W,C], 'label'})."""
  src = open_source(cfg.name, split, cfg.data_dir or None, download=cfg.download)
  shape = _image_shape(cfg, spec)

  def read(indices: np.ndarray) -> Batch:
    images = np.zeros((len(indices), *shape), np.uint8)
    labels = np.zeros((len(indices),), np.int32)
    # One by one: as fast as __getitems__ on local files, and unlike it,
    # working under tfds.testing.mock_data.
    for j, i in enumerate(indices):
      record = src[int(i)]
      image = np.asarray(record["image"])
      image = image[..., None] if image.ndim == 2 else image
      images[j] = _square(image, cfg.image_size) if cfg.image_size else image
      # Datasets without labels (celeb_a) get 0, so every batch has one shape.
      labels[j] = record.get("label", 0)
    return {"image": images, "label": labels}

  return len(src), read


def _cached(
  read: Callable[[np.ndarray], Batch], indices: np.ndarray, shape: tuple[int, ...]
) -> Callable[[np.ndarray], Batch]:
  """positions -> read(indices[positions]), from memory if small enough."""
  if len(indices) * math.prod(shape) > _CACHE_BYTES:
    return lambda positions: read(indices[positions])
  chunks = [read(indices[i : i + _CHUNK]) for i in range(0, len(indices), _CHUNK)]
  data = {k: np.concatenate([c[k] for c in chunks]) for k in ("image", "label")}
  return lambda positions: {k: v[positions] for k, v in data.items()}


def _finish(cfg, spec: DataSpec, raw: Batch, noise: np.ndarray | None) -> Batch:
  """uint8 batch -> float32 images in [-1, 1] (binarised per cfg.binarize)."""
  x = np.minimum(raw["image"].astype(np.float32) / spec.pixel_max, 1.0)
  if cfg.binarize == "threshold":
    x = (x > 0.5).astype(np.float32)
  elif cfg.binarize == "dynamic":  # Each pixel ~ Bernoulli(intensity).
    x = (noise < x).astype(np.float32)
  return {"image": x * 2 - 1, "label": raw["label"]}


def _rng(*words: int) -> np.random.Generator:
  # SeedSequence wants non-negative words; map negative seeds, keep them apart.
  return np.random.default_rng([int(w) % 2**64 for w in words])


def validate(cfg):
  """Refuses data-section values that no pipeline can read, before any record is read."""
  if cfg.binarize not in _BINARIZE:
    raise DatasetError(f"data.binarize='{cfg.binarize}' is not one of {', '.join(_BINARIZE)}.")


def make_train_iterator(
  cfg: ml_collections.ConfigDict,
  *,
  seed: int,
  process_index: int = 0,
  process_count: int = 1,
  split: str | None = None,
) -> grain.DatasetIterator:
  """Endless batches of this process's share, reshuffled every epoch.

  Reads `split`, by default cfg.train_split (two domains read cfg.domains).
  Yields {'image': float32 [B, H, W, C] in [-1, 1], 'label': int32 [B]} with
  B = cfg.batch_size // process_count, rows [process_index B, (process_index + 1) B)
  of the global batch (see the module docstring); a batch may span two epochs. Save
  and restore it with grain.checkpoint.CheckpointSave/CheckpointRestore.
  """
  if _domains(cfg):
    return _make_pair_train_iterator(
      cfg, seed=seed, process_index=process_index, process_count=process_count
    )
  validate(cfg)
  batch = _local_batch(cfg.batch_size, process_count, "batch_size")
  spec = _spec(cfg)
  split = split or train_split(cfg)
  raw_batch = _shuffled_batches(
    cfg,
    split,
    spec,
    shuffle_words=(_SHUFFLE, seed),
    process_index=process_index,
    process_count=process_count,
    batch=batch,
  )

  def make_batch(step: int) -> Batch:
    raw = raw_batch(step)
    noise = None
    if cfg.binarize == "dynamic":  # Fresh noise for every batch number: the global batch's.
      shape = (batch * process_count, *raw["image"].shape[1:])
      noise = _rng(_TRAIN_BITS, seed, step).random(shape, dtype=np.float32)
      noise = noise[process_index * batch : (process_index + 1) * batch]
    return _finish(cfg, spec, raw, noise)

  ds = grain.MapDataset.range(sys.maxsize).map(make_batch)
  return iter(ds.to_iter_dataset(_READ))


def iterate_eval(
  cfg: ml_collections.ConfigDict,
  split: str,
  *,
  process_index: int = 0,
  process_count: int = 1,
  seed: int = 0,
  max_examples: int | None = None,
) -> Iterator[Batch]:
  """One pass over this process's share of `split`, same order every call.

  Batches have B = cfg.eval_batch_size // process_count rows and a float32
  'mask' (0 for padding rows). Every process yields the same number of
  batches, so collective eval steps never wait on a process that ran out.
  With binarize='dynamic', record i is binarised from (seed, i) whatever
  process_count is, so every evaluation sees the same binary set.
  """
  if PAIR_SEP in split:
    return _iterate_pair_eval(
      cfg,
      split,
      process_index=process_index,
      process_count=process_count,
      seed=seed,
      max_examples=max_examples,
    )
  validate(cfg)
  batch = _local_batch(cfg.eval_batch_size, process_count, "eval_batch_size")
  spec = _spec(cfg)
  total, read = _reader(cfg, split, spec)
  if max_examples is not None:
    total = min(total, max_examples)
  share = np.arange(process_index, total, process_count)
  num_batches = math.ceil(math.ceil(total / process_count) / batch)

  def make_batch(k: int) -> Batch:
    indices = share[k * batch : (k + 1) * batch]
    raw = read(indices)
    noise = np.zeros(raw["image"].shape, np.float32)
    if cfg.binarize == "dynamic":  # Per record, so P does not matter.
      for j, i in enumerate(indices):
        noise[j] = _rng(_EVAL_BITS, seed, i).random(noise.shape[1:], dtype=np.float32)
    out = _finish(cfg, spec, raw, noise)
    pad = batch - len(indices)
    out = {k: np.pad(v, [(0, pad)] + [(0, 0)] * (v.ndim - 1)) for k, v in out.items()}
    out["mask"] = (np.arange(batch) < len(indices)).astype(np.float32)
    return out

  ds = grain.MapDataset.range(num_batches).map(make_batch)
  return iter(ds.to_iter_dataset(_READ))


def split_sizes(cfg: ml_collections.ConfigDict, names) -> dict[str, int]:
  """The number of records of each named split (a whole split, no slice)."""
  known = _spec(cfg).num_examples
  # Sizes are only known once prepared (and not under mock_catalog): count the records.
  return {
    n: known[n]
    if n in known
    else len(open_source(cfg.name, n, cfg.data_dir or None, download=cfg.download))
    for n in names
  }


def load_split(
  cfg: ml_collections.ConfigDict, split: str, max_examples: int | None = None, *, seed: int = 0
) -> Batch:
  """All of `split` as arrays, in record order, preprocessed as for eval."""
  batches = list(iterate_eval(cfg, split, seed=seed, max_examples=max_examples))
  if not batches:
    shape = image_shape(cfg)
    return {"image": np.zeros((0, *shape), np.float32), "label": np.zeros((0,), np.int32)}
  keep = np.concatenate([b["mask"] for b in batches]) > 0
  return {k: np.concatenate([b[k] for b in batches])[keep] for k in ("image", "label")}


# --- Two domains (unpaired translation, e.g. CycleGAN) ---------------------------------
# With data.domains = (split_a, split_b), training batches hold one batch of each domain,
# each domain shuffled by its own permutations, as {'image_a', 'image_b', 'label_a',
# 'label_b'}; batch k is still a pure function of (config, seed, k), so the one grain
# iterator's state resumes both streams exactly. An eval split "testA,testB" yields the
# two test splits paired by position.

PAIR_SEP = ","
_DOMAIN_SHUFFLE = 3


def _domains(cfg) -> tuple:
  # .get: data sections written before two-domain support have no such field.
  return tuple(cfg.get("domains", ()) or ())


def _shuffled_batches(
  cfg,
  split: str,
  spec: DataSpec,
  *,
  shuffle_words: tuple,
  process_index: int,
  process_count: int,
  batch: int,
):
  """step -> this process's `batch` rows of global batch `step` of `split` (of
  batch * process_count rows), each epoch in its own permutation of the whole split
  drawn from (*shuffle_words, epoch); a batch may span two epochs."""
  n, read = _reader(cfg, split, spec)
  if n == 0:
    raise DatasetError(f"Split '{split}' of dataset '{cfg.name}' has no examples.")
  fetch = _cached(read, np.arange(n), _image_shape(cfg, spec))

  @functools.lru_cache(maxsize=4)
  def permutation(epoch: int) -> np.ndarray:
    return _rng(*shuffle_words, epoch).permutation(n)

  def raw_batch(step: int) -> Batch:
    first = step * batch * process_count + process_index * batch
    position = np.arange(first, first + batch)
    epoch, offset = np.divmod(position, n)
    records = np.empty_like(position)
    for e in np.unique(epoch):
      records[epoch == e] = permutation(int(e))[offset[epoch == e]]
    return fetch(records)

  return raw_batch


def _pair(a: Batch, b: Batch) -> Batch:
  return {
    "image_a": a["image"],
    "image_b": b["image"],
    "label_a": a["label"],
    "label_b": b["label"],
  }


def _make_pair_train_iterator(
  cfg, *, seed: int, process_index: int, process_count: int
) -> grain.DatasetIterator:
  validate(cfg)
  if cfg.binarize == "dynamic":
    raise DatasetError("data.binarize='dynamic' is not supported with data.domains.")
  check_domains(cfg.name, _domains(cfg), cfg.data_dir or None)
  batch = _local_batch(cfg.batch_size, process_count, "batch_size")
  spec = _spec(cfg)
  fns = [
    _shuffled_batches(
      cfg,
      split,
      spec,
      shuffle_words=(_DOMAIN_SHUFFLE, seed, d),
      process_index=process_index,
      process_count=process_count,
      batch=batch,
    )
    for d, split in enumerate(_domains(cfg))
  ]

  def make_batch(step: int) -> Batch:
    a, b = (_finish(cfg, spec, fn(step), None) for fn in fns)
    return _pair(a, b)

  ds = grain.MapDataset.range(sys.maxsize).map(make_batch)
  return iter(ds.to_iter_dataset(_READ))


def _iterate_pair_eval(
  cfg, split: str, *, process_index: int, process_count: int, seed: int, max_examples: int | None
) -> Iterator[Batch]:
  """Splits "A,B" paired by position: row i holds A's record i and B's record i.

  The pass covers max(|A|, |B|) positions; the shorter split starts again from its
  first record, so every unmasked row pairs two real images ('mask_a' and 'mask_b'
  are 0 on those repeats, for callers that want each image counted once; see
  `paired_rows` for 'weight_a' and 'weight_b').
  """
  del seed  # Nothing random: binarize='dynamic' is refused for two domains.
  validate(cfg)
  names = tuple(split.split(PAIR_SEP))
  check_domains(cfg.name, names, cfg.data_dir or None)
  batch = _local_batch(cfg.eval_batch_size, process_count, "eval_batch_size")
  spec = _spec(cfg)
  (n_a, read_a), (n_b, read_b) = (_reader(cfg, s, spec) for s in names)
  total = max(n_a, n_b)
  if max_examples is not None:
    total = min(total, max_examples)
  share = np.arange(process_index, total, process_count)
  num_batches = math.ceil(math.ceil(total / process_count) / batch)

  def make_batch(k: int) -> Batch:
    positions = share[k * batch : (k + 1) * batch]
    a = _finish(cfg, spec, read_a(positions % n_a), None)
    b = _finish(cfg, spec, read_b(positions % n_b), None)
    return paired_rows(a, b, positions, sizes=(n_a, n_b), total=total, batch=batch)

  ds = grain.MapDataset.range(num_batches).map(make_batch)
  return iter(ds.to_iter_dataset(_READ))


def paired_rows(
  a: Batch, b: Batch, positions: np.ndarray, *, sizes: tuple[int, int], total: int, batch: int
) -> Batch:
  """One paired eval batch from A's and B's records at `positions` (mod their sizes).

  'mask' is 0 on padding rows; 'mask_a' ('mask_b') is 1 where the row holds A's (B's)
  record for the first time in the pass of `total` positions. 'weight_a' is mask_a
  times total / (A's records in the pass), so the mean of weight_a * v over the pass's
  real rows, the loop's mean, is the mean of v over A's images, each once; 'weight_b'
  likewise.
  """
  out = _pair(a, b)
  for d, n in zip("ab", sizes):
    first = (positions < n).astype(np.float32)
    out[f"mask_{d}"] = first
    out[f"weight_{d}"] = first * np.float32(total / min(n, total))
  pad = batch - len(positions)
  out = {k: np.pad(v, [(0, pad)] + [(0, 0)] * (v.ndim - 1)) for k, v in out.items()}
  out["mask"] = (np.arange(batch) < len(positions)).astype(np.float32)
  return out
