"""The entry points: absl launchers (train, sample, compare, reproduce) and cluster launchers.

Importing this package sets genjax's XLA:CPU flag (launch/xla_flags.py), and glibc's
malloc options for CPU training with the XLA option that sizes its blocks for them
(launch/malloc.py), before any computation starts JAX's backend: every
`python -m launch.<module>` gets them, and so do the benchmarks and tests, which import it
first.
"""

from launch import malloc as _malloc
from launch import xla_flags as _xla_flags

_xla_flags.set_default()
_malloc.keep_step_buffers()  # before jax is imported (its C++ log level)
