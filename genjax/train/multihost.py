"""What the processes of a multi-process run must agree on, decided once for all of them.

A decision taken from each process's own view of the filesystem (is the feature network
trained yet?) can differ between processes on shared storage that is slow to show a new
file, and a user error raised on one process alone leaves the others waiting in their next
collective until gloo or NCCL times out with a traceback. These helpers make both
collective: process 0 decides, and an error anywhere is the same error everywhere.
"""

import jax
from jax.experimental import multihost_utils
import numpy as np

from genjax.errors import GenjaxError

_MESSAGE_BYTES = 2048  # one sentence; longer ones are cut


def process_zero_decides(value: bool) -> bool:
  """Process 0's `value`, on every process."""
  if jax.process_count() == 1:
    return bool(value)
  return bool(multihost_utils.broadcast_one_to_all(np.int32(bool(value))))


def any_process(*flags: bool) -> tuple:
  """Each flag true on every process if it is true on any (a stop requested by a signal
  that reached one process): every process must call this at the same step."""
  if jax.process_count() == 1:
    return tuple(bool(f) for f in flags)
  rows = multihost_utils.process_allgather(np.asarray(flags, np.int32))
  return tuple(bool(v) for v in np.asarray(rows).reshape(-1, len(flags)).max(axis=0))


def max_over_processes(value: float) -> float:
  """The largest of every process's `value` (its training seconds: a number they must all
  act on alike); every process must call this at the same step."""
  if jax.process_count() == 1:
    return float(value)
  rows = multihost_utils.process_allgather(np.asarray([value], np.float32))
  return float(np.asarray(rows).max())


def _encode(message: str) -> np.ndarray:
  raw = message.encode("utf-8")[:_MESSAGE_BYTES]
  return np.frombuffer(raw.ljust(_MESSAGE_BYTES, b"\0"), np.uint8).astype(np.int32)


def _decode(row) -> str:
  return bytes(np.asarray(row).astype(np.uint8)).rstrip(b"\0").decode("utf-8", errors="replace")


def on_every_process(fn, what: str):
  """fn()'s result; if fn raises on any process, every process raises the same error.

  Every process must call this at the same point (it ends in a collective). A user error
  (GenjaxError) on one process becomes that one sentence on all of them; anything else
  keeps its traceback where it happened, and the other processes are told which process
  failed instead of waiting for it.
  """
  if jax.process_count() == 1:
    return fn()
  result, message, failure = None, "", None
  try:
    result = fn()
  except GenjaxError as e:
    message, failure = str(e), e
  except Exception as e:  # pylint: disable=broad-except
    message = (
      f"Process {jax.process_index()} failed while {what} "
      f"({type(e).__name__}: {str(e).splitlines()[0][:300] if str(e) else ''}); "
      f"its own output has the traceback."
    )
    failure = e
  rows = multihost_utils.process_allgather(_encode(message))
  messages = [_decode(r) for r in np.asarray(rows).reshape(-1, _MESSAGE_BYTES)]
  first = next((m for m in messages if m), "")
  if not first:
    return result
  if failure is not None and not isinstance(failure, GenjaxError):
    raise failure
  raise GenjaxError(first)
