"""One paper config's training step under variants, side by side: which XLA option,
random-number generator, dtype, batch or dispatch moves its MFU. Written for the DDPM
U-Net on a GPU (18 % MFU on an H100 at the paper's batch, benchmarks/RESULTS.md); runs on
any backend.

  python benchmarks/step_variants.py [--config=ddpm_cifar10] [--variants=default,rbg,k4]
      [--rounds=5] [--seconds=1.0]

Each variant is a worker process with its own XLA_FLAGS, jax options and config changes,
all started together (they compile at the same time) on mock data of the config's shape;
then every round times each of them in turn for about --seconds, and the median seconds
per step is reported with its ratio to the first variant's (the median over rounds of the
two times' ratio in the same round, and its range) and its MFU (the step's model
FLOPs at that variant's batch, genjax/train/flops.py, over its time, against the chip's
dense bf16 peak). Workers share the device's memory (no preallocation). A variant whose
flags the backend rejects (XLA:CPU does not know the GPU flags) is reported as failed,
its error above the table; the others still run. Not a test: printed, never asserted.
"""

import argparse
import os
import statistics
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)

# name: what it changes. xla: appended to XLA_FLAGS; env: more environment; dtype:
# train.compute_dtype; model: config.model entries; batch: the global batch; k: steps per
# jitted call (train.steps_per_dispatch's scan): any "k<N>", e.g. k4.
VARIANTS = {
  "default": {},
  "f32": dict(dtype="float32"),
  "b256": dict(batch=256),
  "nodrop": dict(model=dict(dropout=0.0)),
  "rbg": dict(env={"JAX_DEFAULT_PRNG_IMPL": "rbg"}),
  "no_cmdbuf": dict(xla="--xla_gpu_enable_command_buffer="),
  "no_triton_gemm": dict(xla="--xla_gpu_enable_triton_gemm=false"),
  "system_malloc": dict(env={"GENJAX_MALLOC": "system"}),
  "sync": dict(env={"JAX_CPU_ENABLE_ASYNC_DISPATCH": "false"}),
  "one_heap": dict(xla="--xla_multiheap_size_constraint_per_heap=-1"),
  "heap16": dict(xla=f"--xla_multiheap_size_constraint_per_heap={16 << 20}"),
  "heap32": dict(xla=f"--xla_multiheap_size_constraint_per_heap={32 << 20}"),
}


def variant(name: str) -> dict | None:
  """The variant called `name`: one of VARIANTS, "k<N>" (N steps per call), or several
  joined by "+" (e.g. k2+heap32: their changes together); None if any part is neither."""
  if "+" in name:
    parts = [variant(part) for part in name.split("+")]
    if any(p is None for p in parts):
      return None
    joined = {}
    for p in parts:
      for key, value in p.items():
        if key == "xla":
          joined[key] = f"{joined.get(key, '')} {value}".strip()
        elif key in ("env", "model"):
          joined[key] = {**joined.get(key, {}), **value}
        else:
          joined[key] = value
    return joined
  if name[:1] == "k" and name[1:].isdigit() and int(name[1:]) > 0:
    return dict(k=int(name[1:]))
  return VARIANTS.get(name)


def worker(spec: str, variant_name: str, dtype: str, batch: int):
  import tempfile

  from absl import logging
  from conv_vs_torch import serve
  from loop_step import (
    build,
    compile_step,
    load_config,
    mock_batch,
    model_flops,
    stacked_batch,
    step_timer,
  )

  logging.set_verbosity(logging.WARNING)
  v = variant(variant_name)
  config = load_config(spec, tempfile.mkdtemp(), v.get("dtype", dtype), v.get("batch", batch))
  config.model.update(v.get("model", {}))
  experiment, mesh, state = build(config)
  batch, host = mock_batch(config, mesh)
  flops = model_flops(experiment, mesh, state, batch)
  k = v.get("k", 1)
  if k > 1:
    batch = stacked_batch(host, mesh, k)
  compiled, compile_s = compile_step(experiment, mesh, state, batch, k)
  run = step_timer(compiled, state, batch, k)
  serve(f"{int(flops)} {config.data.batch_size} {compile_s:.1f}", run)


def main():
  from conv_vs_torch import Worker, paired_ratio, time_rounds

  p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  p.add_argument("--config", default="ddpm_cifar10")
  p.add_argument("--variants", default=",".join([*VARIANTS, "k4"]))
  p.add_argument("--dtype", default="bfloat16", help="every variant's but f32's")
  p.add_argument(
    "--batch", type=int, default=0, help="every variant's but b256's (0: the config's)"
  )
  p.add_argument("--rounds", type=int, default=5)
  p.add_argument("--seconds", type=float, default=1.0, help="per variant per round")
  p.add_argument("--worker", default="", help=argparse.SUPPRESS)
  a = p.parse_args()
  if a.batch < 0:
    p.error(f"--batch must be 0 or more, not {a.batch}")
  names = a.variants.split(",")
  unknown = sorted(n for n in set(names + [a.worker] * bool(a.worker)) if variant(n) is None)
  if unknown:
    known = ", ".join(VARIANTS)
    p.error(f"unknown variant(s) {', '.join(unknown)}; known: {known}, k<N>, and them joined by +")
  if a.worker:
    return worker(a.config, a.worker, a.dtype, a.batch)
  from loop_step import load_config

  load_config(a.config)  # an unknown config ends here, in one sentence

  import jax

  from genjax.train import flops as flops_lib

  workers = {}
  for name in names:
    v = variant(name)
    env = dict(os.environ, XLA_PYTHON_CLIENT_PREALLOCATE="false", **v.get("env", {}))
    env["XLA_FLAGS"] = f"{env.get('XLA_FLAGS', '')} {v.get('xla', '')}".strip()
    argv = [sys.executable, __file__, "--config", a.config, "--dtype", a.dtype]
    argv += ["--batch", str(a.batch), "--worker", name]
    workers[name] = Worker(name, argv, env=env, cwd=REPO, wait=False)
  failed = {}
  for name, w in list(workers.items()):
    try:
      w.ready()
    except RuntimeError:
      failed[name] = workers.pop(name)
  if not workers:
    sys.exit("every variant failed to start; their errors are above")
  times = time_rounds(workers, a.seconds, a.rounds)

  kind = jax.devices()[0].device_kind
  peak = flops_lib.peak_flops(kind)
  print(f"{a.config} on {kind}, {a.rounds} rounds, median s/step")
  print("| variant | batch | s/step | x first | model GFLOP/step | TFLOP/s | MFU | compile s |")
  print("|---|---:|---:|---:|---:|---:|---:|---:|")
  first = None  # the first variant that ran: what the others are compared with
  for name in names:
    if name in failed:
      print(f"| {name} | failed to start: its error is above | | | | | | |")
      continue
    w = workers[name]
    batch, compile_s = w.info.split()
    s = statistics.median(times[name])
    first = first or name
    rate = w.params / s
    mfu = f"{100 * rate / peak:.1f} %" if peak else "—"
    print(
      f"| {name} | {batch} | {s:.4g} | {paired_ratio(times[name], times[first], 3)} "
      f"| {w.params / 1e9:,.1f} "
      f"| {rate / 1e12:.2f} | {mfu} | {compile_s} |",
      flush=True,
    )
  print(
    "x first: the median over rounds of s/step over the first variant's in the same round, "
    "with its range (at another batch, per step, not per image). "
    + "; ".join(f"{n}: {variant(n) or 'as configured'}" for n in names)
  )


if __name__ == "__main__":
  main()
