"""jax's threefry hash, the source of every jax.random bit, lowered unrolled on XLA:CPU:
the same bits, in one pass instead of five loop iterations.

jax 0.10 lowers threefry2x32 on the CPU as a fori_loop over its five groups of four
rounds, to keep programs small; on GPU and TPU the 20 rounds are unrolled. XLA:CPU runs
that loop as five iterations of separate kernels, its two uint32 halves (each the size
of the mask being drawn) written, copied and read again at every iteration. Unrolled,
the hash is one elementwise fusion. A dropout mask of [32, 28, 28, 16] (jit, median of
7 x 50 calls, 2 CPU cores) took 5.5 ms with the loop and 0.49-0.53 ms unrolled. The
function is the same, so every bit drawn is the same (tests/test_threefry.py).

Registered when `launch` is imported (like launch/xla_flags.py's flag, a setting of the
process that genjax itself leaves alone), for the jax version it was measured on only,
since it replaces a lowering rule of jax's own; GENJAX_THREEFRY=rolled keeps jax's.
"""

from __future__ import annotations

from importlib import metadata
import os

MEASURED_ON = ("0", "10")  # jax major, minor


def applies(environ=os.environ) -> bool:
  """Whether the unrolled lowering is registered: the measured jax, not opted out."""
  if environ.get("GENJAX_THREEFRY", "") == "rolled":
    return False
  try:
    version = metadata.version("jax")
  except metadata.PackageNotFoundError:
    return False
  return tuple(version.split(".")[:2]) == MEASURED_ON


def unroll_on_cpu() -> bool:
  """Registers jax's own unrolled threefry lowering for the CPU where `applies`; True if
  it did. Programs lowered afterwards use it."""
  if not applies():
    return False
  from jax._src.interpreters import mlir  # pylint: disable=import-outside-toplevel
  from jax._src.random import threefry2x32  # pylint: disable=import-outside-toplevel

  mlir.register_lowering(
    threefry2x32.threefry2x32_p, threefry2x32._threefry2x32_lowering_rule, platform="cpu"
  )
  return True
