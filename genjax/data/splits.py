"""Which records a TFDS split string reads, so held-out splits can be checked held out.

"train[:50000]" and "train[50000:]" read disjoint records of one split; "validation"
and "train" read different splits, whatever their sizes.
"""

import dataclasses
import re
from typing import Mapping

import tensorflow_datasets as tfds

from genjax.errors import ConfigError

_SEP = re.compile(r"\s*\+\s*")
_ALL = "all"  # TFDS's name for the union of every split


@dataclasses.dataclass(frozen=True)
class _Size:
  # The one field of tfds.core.SplitInfo that absolute and percent slices need.
  num_examples: int


def train_split(data_cfg) -> str:
  """The split training reads; "train" for data sections written before the field."""
  return data_cfg.get("train_split", "") or "train"


def _parts(spec: str, field: str = "") -> list:
  try:
    return [tfds.core.ReadInstruction.from_spec(p) for p in _SEP.split(spec.strip())]
  except (ValueError, AttributeError) as e:  # AttributeError: a value that is no string
    what = f"{field}={spec!r}" if field else f"Split '{spec}'"
    raise ConfigError(f"{what} is not a TFDS split string such as 'train[:50000]'.") from e


def _names(spec: str, field: str = "") -> set[str]:
  return {getattr(p, "split_name", _ALL) for p in _parts(spec, field)}


def split_names(spec: str, field: str = "") -> set[str]:
  """The base splits a split string reads ("all" for every split); `field`, the config
  field it came from, names it in the error when it is no split string."""
  return _names(spec, field)


def num_records(spec: str, sizes: Mapping[str, int], field: str = "") -> int | None:
  """How many records split string `spec` reads, given the size of every split it names
  (slices resolve as TFDS resolves them); None for one sliced by shards, whose record
  count the sizes alone do not give."""
  parts = _parts(spec, field)
  if any(getattr(p, "unit", "abs") == "shard" for p in parts):
    return None
  infos = {k: _Size(v) for k, v in sizes.items()}
  what = f"{field}={spec!r}" if field else f"Split '{spec}'"
  try:
    absolute = [r for p in parts for r in p.to_absolute(infos)]
  except (ValueError, KeyError) as e:
    raise ConfigError(f"{what} does not fit splits of sizes {dict(sizes)}.") from e
  return sum(
    max((sizes[r.splitname] if r.to is None else r.to) - (r.from_ or 0), 0) for r in absolute
  )


def shared_splits(a: str, b: str) -> set[str]:
  """The base splits that both split strings read some records of ("all" reads each)."""
  na, nb = _names(a), _names(b)
  if _ALL in na:
    return nb - {_ALL}
  if _ALL in nb:
    return na - {_ALL}
  return na & nb


def _ranges(spec: str, sizes: Mapping[str, int], only: set[str]) -> list[tuple]:
  """(split, start, stop) of the records `spec` reads in the splits named in `only`."""
  infos = {k: _Size(sizes[k]) for k in only}
  out = []
  for part in _parts(spec):
    if getattr(part, "split_name", _ALL) not in only | {_ALL}:
      continue
    if getattr(part, "unit", "abs") == "shard":
      raise ConfigError(
        f"Split '{spec}' is sliced by shards, which cannot be checked "
        "for overlap: slice it by records or percent."
      )
    try:
      absolute = part.to_absolute(infos)
    except ValueError as e:
      raise ConfigError(
        f"Split '{spec}' does not fit splits of sizes { {k: sizes[k] for k in only} }."
      ) from e
    out.extend(
      (r.splitname, r.from_ or 0, sizes[r.splitname] if r.to is None else r.to) for r in absolute
    )
  return out


def splits_overlap(a: str, b: str, num_examples: Mapping[str, int]) -> bool:
  """Whether two split strings share a record, given the size of each split they share.

  Percent and negative slices resolve as TFDS resolves them; `num_examples` needs only
  the splits in `shared_splits(a, b)`.
  """
  if _ALL in _names(a) and _ALL in _names(b):
    return True
  shared = shared_splits(a, b)
  missing = sorted(shared - set(num_examples))
  if missing:
    raise ConfigError(
      f"The size of split '{missing[0]}' is needed to tell whether '{a}' and '{b}' overlap."
    )
  ra, rb = _ranges(a, num_examples, shared), _ranges(b, num_examples, shared)
  return any(sa == sb and max(fa, fb) < min(ta, tb) for sa, fa, ta in ra for sb, fb, tb in rb)
