"""FLOPs of a compiled step from XLA's cost analysis, and the peak of the chip it runs on.

XLA counts what the compiled program does: 2·m·n·k for a matmul plus one per element of
elementwise work, and for a padded convolution only the taps that fall inside the image
(tests/test_flops.py checks both against hand counts). Inside a `lax.scan` or other loop
it counts the body once, not once per trip: a program of k scanned steps reports the
FLOPs of one, so per-step FLOPs are read from the one-step program.
"""

# Dense bf16 peak FLOP/s per chip, by a substring of jax's device_kind, most specific
# first ("TPU v5 lite" is v5e, "TPU v5" alone is v5p).
PEAK_BF16_FLOPS = (
  ("H200", 989e12),
  ("H100", 989e12),
  ("A100", 312e12),
  ("TPU v6 lite", 918e12),
  ("TPU v5 lite", 197e12),
  ("TPU v5", 459e12),
  ("TPU v4", 275e12),
)


def compiled_flops(compiled) -> float:
  """FLOPs of one call of a compiled jax function (`jit(f).lower(...).compile()`)."""
  analysis = compiled.cost_analysis()
  if isinstance(analysis, (list, tuple)):  # older jax: one dict per device program
    analysis = analysis[0] if analysis else {}
  return float((analysis or {}).get("flops", float("nan")))


def peak_flops(device_kind: str) -> float | None:
  """The chip's dense bf16 peak, or None for a chip not in the table (a CPU)."""
  for name, peak in PEAK_BF16_FLOPS:
    if name in device_kind:
      return peak
  return None
