"""XLA:CPU convolutions by XLA's own (Eigen) kernels instead of YNNPACK's.

jaxlib 0.10 hands convolutions on CPU to YNNPACK by default (its "individual
convolution" fusions), whose kernels ran each convolution on one core of two. XLA's own
convolutions use every core. Measured side by side on 2 CPU cores (the training steps of
benchmarks/conv_vs_torch.py, 2026-12-03), the same steps with XLA's convolutions take
0.52x the time (conv VAE, batch 128), 0.74x (DDPM U-Net at 28x28), 0.87x (PixelCNN),
0.69x (DCGAN) and 0.91x (DDPM U-Net at 8x8); matrix products and reductions stay with
YNNPACK. Results differ from YNNPACK's by float rounding only (the sums run in another
order).

XLA reads its flags once, when JAX starts its CPU backend (at the first computation, not
at `import jax`). The process's entry point sets them: importing the `launch` package
does (launch/__init__.py), so every launcher, benchmark and test has it; genjax itself
stays free of process state, so a script of your own that imports genjax alone runs
jaxlib's default unless it imports `launch` first or sets XLA_FLAGS. Set by hand in
XLA_FLAGS, the user's value wins. The flag is experimental: it is added only for the jaxlib minor
version it was measured on (an unknown XLA flag stops the process), and does nothing on
GPU or TPU. On jaxlib 0.11.2 (Python 3.12, measured 2026-12-05 on 2 AVX-512 cores, 2
alternating runs each) it made no difference worth keeping: the conv VAE's step took
99-113 ms with it and 100-122 ms without, PixelCNN's 58-60 against 57-63 ms, the 28x28
U-Net's 267-269 against 268-316 ms. jaxlib 0.11 also no longer knows the tests'
`--xla_cpu_use_fusion_emitters` (XLA stops at it), so neither is added there.
"""

from __future__ import annotations

from importlib import metadata
import os

FLAG = "--xla_cpu_experimental_ynn_fusion_type"
# Removes one type from YNNPACK's default list and keeps the rest (dot, reduce, ...).
VALUE = "-individual_convolution"
MEASURED_ON = ("0", "10")  # jaxlib major, minor


def applies(jaxlib_version: str, xla_flags: str, flag: str = FLAG) -> bool:
  """Whether `flag` is added: the measured jaxlib, and not already set by hand."""
  return tuple(jaxlib_version.split(".")[:2]) == MEASURED_ON and flag not in xla_flags


def add(flag: str, value: str) -> None:
  """Appends `flag=value` to XLA_FLAGS where `applies`; call before JAX's first computation."""
  try:
    version = metadata.version("jaxlib")
  except metadata.PackageNotFoundError:
    return
  flags = os.environ.get("XLA_FLAGS", "")
  if applies(version, flags, flag):
    os.environ["XLA_FLAGS"] = f"{flags} {flag}={value}".strip()


def set_default() -> None:
  add(FLAG, VALUE)
