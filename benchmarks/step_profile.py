"""Where a compiled step's time goes: per-op device time from a jax.profiler trace, named
by the compiled HLO and grouped into kinds (convolution, matmul, reduction, elementwise).

Used by conv_vs_torch.py --profile (XLA:CPU thunks) and paper_scale.py --profile (on a
GPU, the "XLA Ops" line of the device's trace: one event per HLO op as it ran on the
device, so the ops' sum over the step's wall time is how busy the device was; the rest is
launch gaps and host work).
"""

import launch  # noqa: F401  (first: its XLA:CPU flags and log level, launch/malloc.py)

# isort: split
import collections
import glob
import gzip
import json
import re
import tempfile

import jax

_CALLS = re.compile(r"%?([\w.\-]+) = [^\n]*?calls=%?([\w.\-]+)")
_BODIES = re.compile(r"\n%?([\w.\-]+) [^\n]*\{\n(.*?)\n\}", re.S)
# A shape is one token, or a tuple of them: a cuDNN convolution returns (result, scratch).
_LINES = re.compile(r"\n\s*(?:ROOT )?%?([\w.\-]+) = ((?:\([^)]*\)|\S+) \w[\w\-]*)\(([^\n]*)")
_OPS = re.compile(r"= (\S+) (convolution|dot|transpose)\(")
_ATTR = re.compile(r"window=\{[^}]*\}|dimensions=\{[^}]*\}|lhs_contracting_dims=\{[^}]*\}")


# Ops whose events span the ops inside them, which have events of their own.
_CONTAINERS = ("while", "call", "conditional")


class Hlo:
  """The compiled module's instructions: what each named op is and what it holds."""

  def __init__(self, text: str):
    self.calls = dict(_CALLS.findall(text))
    self.bodies = dict(_BODIES.findall(text))
    self.lines = {name: (head, rest) for name, head, rest in _LINES.findall(text)}

  def __contains__(self, name: str) -> bool:
    return name in self.calls or name in self.lines

  def holds(self, name: str) -> str:
    """The convolutions, dots and transposes a fusion computes, with their attributes;
    for any other op its own shape and opcode."""
    if name not in self.calls:
      return self.lines.get(name, ("", ""))[0]
    found = []
    for line in self.bodies.get(self.calls[name], "").split("\n"):
      m = _OPS.search(line)
      if m:
        a = _ATTR.search(line)
        found.append(f"{m.group(2)} -> {m.group(1)} {a.group(0) if a else ''}")
    return "; ".join(found)

  def kind(self, name: str) -> str:
    if name not in self:  # a library's own kernel, by its name (cuDNN, cuBLAS, CUTLASS)
      low = name.lower()
      if any(w in low for w in ("fprop", "dgrad", "wgrad", "conv", "winograd", "implicit")):
        return "convolution (library kernel)"
      if any(w in low for w in ("gemm", "xmma", "cutlass", "nvjet", "matmul", "cublas")):
        return "matmul (library kernel)"
      return "copy" if "memcpy" in low or "memset" in low else "other kernel"
    head, rest = self.lines.get(name, ("", ""))
    target = re.search(r'custom_call_target="([^"]+)"', rest)
    if target:
      t = target.group(1).lower()
      if "conv" in t:
        return "convolution (library)"
      return "matmul (library)" if ("gemm" in t or "matmul" in t) else f"custom call {t}"
    if "__triton_gemm" in rest or "triton_gemm" in rest:
      return "matmul (fused)"
    body = self.bodies.get(self.calls.get(name, ""), "")
    if name in self.calls:
      for op, label in (
        (" convolution(", "convolution (fused)"),
        (" dot(", "matmul (fused)"),
        (" reduce(", "reduction fusion"),
        (" transpose(", "transpose fusion"),
      ):
        if op in body:
          return label
      return "elementwise fusion"
    return head.split()[-1] if head else "?"


def op_times(compiled, run) -> tuple[collections.Counter, Hlo]:
  """Microseconds per op over one call of `run()` (which runs the compiled step some
  number of times and blocks), read from a jax.profiler trace. An op is named by its HLO
  instruction; on a GPU a kernel XLA generated is named by its fusion (`loop_add_fusion_3`
  is `loop_add_fusion.3`) and a library's kernel (cuDNN, cuBLAS) by its own name. On an
  accelerator only the device's lines are read: its "XLA Ops" line where there is one,
  else its streams, so host-side events and module-wide spans do not count."""
  hlo = Hlo(compiled.as_text())
  with tempfile.TemporaryDirectory() as d:
    with jax.profiler.trace(d, create_perfetto_trace=True):
      run()
    trace = json.load(gzip.open(glob.glob(f"{d}/**/*.trace.json.gz", recursive=True)[0]))
  total, per_line = aggregate(trace["traceEvents"] if isinstance(trace, dict) else trace, hlo)
  if per_line:
    print("device trace lines (ms in all):", {n: round(us / 1e3, 1) for n, us in per_line.items()})
  return total, hlo


def aggregate(events, hlo: Hlo) -> tuple[collections.Counter, collections.Counter]:
  """(microseconds per op, microseconds per device trace line) from a trace's events."""
  process, thread = {}, {}
  for e in events:
    if e.get("ph") == "M" and e.get("name") == "process_name":
      process[e["pid"]] = e["args"]["name"]
    if e.get("ph") == "M" and e.get("name") == "thread_name":
      thread[e["pid"], e["tid"]] = e["args"]["name"]
  device = {p for p, n in process.items() if re.search(r"GPU|TPU|device:(?!CPU)", n)}
  lines = {k: n for k, n in thread.items() if k[0] in device}
  keep = {k for k, n in lines.items() if n == "XLA Ops"}
  keep = keep or {k for k, n in lines.items() if n.lower().startswith("stream")}
  per_line, total = collections.Counter(), collections.Counter()
  for e in events:
    if e.get("ph") != "X":
      continue
    key = e.get("pid"), e.get("tid")
    if device:
      per_line[lines.get(key, "?")] += e.get("dur", 0)
      if key not in keep:
        continue
      name = e.get("name", "")
      fusion = re.sub(r"_(\d+)$", r".\1", name)
      total[name if name in hlo or fusion not in hlo else fusion] += e.get("dur", 0)
    elif e.get("name") in hlo and hlo.kind(e["name"]) not in _CONTAINERS:
      total[e["name"]] += e.get("dur", 0)
  return total, per_line


def report(total: collections.Counter, hlo: Hlo, steps: int, step_s: float, top: int = 30):
  """Prints ms per step by kind of op, then the `top` costliest ops."""
  busy = sum(total.values()) / 1e3 / steps
  print(f"ops sum to {busy:.2f} ms per step of {step_s * 1e3:.2f} ms wall")
  kinds, counts = collections.Counter(), collections.Counter()
  for name, us in total.items():
    kinds[hlo.kind(name)] += us
    counts[hlo.kind(name)] += 1
  for kind, us in kinds.most_common():
    share = us / 1e3 / steps / busy if busy else 0.0
    print(f"  {us / 1e3 / steps:9.3f} ms  {share:6.1%}  {counts[kind]:5d} ops  {kind}")
  print(f"the {top} costliest ops (ms per step, op, what it computes):")
  for name, us in total.most_common(top):
    print(f"  {us / 1e3 / steps:9.3f}  {name}: {hlo.holds(name)[:150]}")
