"""genjax: generative models of images in JAX/Flax."""

from genjax import xla_flags as _xla_flags

# Before any computation starts JAX's CPU backend: see genjax/xla_flags.py.
_xla_flags.set_default()
