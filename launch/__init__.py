"""The entry points: absl launchers (train, sample, compare, reproduce) and cluster launchers.

Importing this package sets genjax's XLA:CPU flag (launch/xla_flags.py) before any
computation starts JAX's backend: every `python -m launch.<module>` gets it, and so do
the benchmarks and tests, which import it first.
"""

from launch import xla_flags as _xla_flags

_xla_flags.set_default()
