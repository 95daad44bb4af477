"""One-sentence checks of single config values: the field, its value and what is allowed.

A value of the right type can still be out of range (a size of 0, a NaN rate); these
turn it into a ConfigError before anything is built from it.
"""

import math
import numbers

from genjax.errors import ConfigError

# Layers and blocks are unrolled into the traced program, so 10**8 of them would trace
# for hours before any memory check could run; no model here needs more than a few
# dozen.
MAX_DEPTH = 1000
# Some widths size arrays that numpy builds while the model is traced (PixelCNN's
# kernel masks, MAE's position embeddings), again before its size can be measured;
# the widest layer here has a few hundred units.
MAX_WIDTH = 8192


def _is_integer(value) -> bool:
  return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _is_real(value) -> bool:
  return isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value)


def _range_text(low, high, low_open: bool, high_open: bool, integer: bool) -> str:
  kind = "an integer" if integer else "a finite number"
  if low is not None and high is not None:
    if integer:
      return f"{kind} in {low}..{high}"
    return f"{kind} in {'(' if low_open else '['}{low}, {high}{')' if high_open else ']'}"
  if low is not None:
    return f"{kind} {'>' if low_open else '>='} {low}"
  if high is not None:
    return f"{kind} {'<' if high_open else '<='} {high}"
  return kind


def _check(path: str, value, low, high, low_open: bool, high_open: bool, integer: bool):
  ok = _is_integer(value) if integer else _is_real(value)
  if ok and low is not None:
    ok = value > low if low_open else value >= low
  if ok and high is not None:
    ok = value < high if high_open else value <= high
  if not ok:
    allowed = _range_text(low, high, low_open, high_open, integer)
    raise ConfigError(f"{path} must be {allowed}, not {value!r}.")
  return value


def integer(path: str, value, low=None, high=None) -> int:
  """`value` of field `path` if it is an integer in [low, high] (either bound optional)."""
  return _check(path, value, low, high, False, False, True)


def real(
  path: str, value, low=None, high=None, *, low_open: bool = False, high_open: bool = False
) -> float:
  """`value` of field `path` if it is a finite number within the bounds given."""
  return _check(path, value, low, high, low_open, high_open, False)


def depth(path: str, value) -> int:
  """A number of layers or blocks: 1..MAX_DEPTH."""
  return integer(path, value, 1, MAX_DEPTH)


def width(path: str, value) -> int:
  """A number of units or channels of a layer: 1..MAX_WIDTH."""
  return integer(path, value, 1, MAX_WIDTH)


def boolean(path: str, value) -> bool:
  """`value` of field `path` if it is True or False (not 0, 1 or a string)."""
  if not isinstance(value, bool):
    raise ConfigError(f"{path} must be True or False, not {value!r}.")
  return value
