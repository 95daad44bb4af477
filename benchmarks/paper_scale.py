"""Each paper-scale config at full size, on mock data: what a step costs and what the
paper's training would cost, here and on an H100.

  python benchmarks/paper_scale.py                        # every paper config
  python benchmarks/paper_scale.py --configs=ddpm_cifar10 --steps=3
  python benchmarks/paper_scale.py --steps=0              # compile only: FLOPs and estimates
  python benchmarks/paper_scale.py --compute_dtype=bfloat16   # on a GPU: with its MFU
  python benchmarks/paper_scale.py --configs=ddpm_cifar10 --profile   # where time goes

For each config: the real model, batch and image size of the paper's setting, the loop's
own jitted step, batches from `tfds.testing.mock_data` through the real pipeline (no
dataset download). Printed: parameters, compile seconds, seconds per step here (median of
--steps timed steps after one warm-up), GFLOP per step (the model count of its products and
convolutions, genjax/train/flops.py, which MFU and the H100 estimate use; beside it XLA's
cost analysis of the compiled step, which XLA:GPU undercounts),
the step's memory, and for the config's train.num_steps (the paper's length): the
time here at the measured step time, and on one H100 at 40 % of its dense bf16 peak from
the FLOPs. A step that needs more memory than this machine has (MAE's global batch of
4096) is timed at the largest halving of its batch that fits and scaled to the full batch;
the row says at which batch. Each config is measured in a process of its own (--apart, the
default), so that one row's memory does not carry into the next; a row whose process dies
says how. Not a test: printed, never asserted.
"""

import launch  # noqa: F401  (first: its XLA:CPU flags and log level, launch/malloc.py)

# isort: split
import os
import resource
import signal
import subprocess
import sys
import tempfile
import time

from absl import app, flags, logging
import jax
from loop_step import build, compile_step, load_config, mock_batch, model_flops, step_bytes
import numpy as np
import step_profile

from genjax.train import flops as flops_lib

PAPER_CONFIGS = (
  "vae_mnist",
  "gan_mnist",
  "dcgan_cifar10",
  "dcgan_celeb_a",
  "cyclegan_horse2zebra",
  "ddpm_cifar10",
  "pixelcnn_cifar10",
  "gated_pixelcnn_cifar10",
  "row_lstm_cifar10",
  "diagonal_bilstm_cifar10",
  "mae_cifar10",
)
H100_AT_40 = 0.4 * 989e12

FLAGS = flags.FLAGS
flags.DEFINE_list("configs", list(PAPER_CONFIGS), "Paper-scale configs (name[:arg]).")
flags.DEFINE_integer("steps", 2, "Timed steps per config after one warm-up; 0 compiles only.")
flags.DEFINE_float(
  "memory_gib",
  0.0,
  "Memory one step may use (0: the device's limit; on CPU 70 % of the host's RAM). A step "
  "that needs more is timed at a halving of its batch that fits, scaled to the full batch.",
)
flags.DEFINE_string("compute_dtype", "", "Override train.compute_dtype (float32|bfloat16).")
flags.DEFINE_integer("batch_size", 0, "Override the paper's batch (0: keep it).")
flags.DEFINE_bool("profile", False, "After each row, where its step's time goes (step_profile.py).")
flags.DEFINE_bool(
  "apart",
  True,
  "Each config's row in a process of its own (on the CPU, rows in one process held each "
  "other's memory and ran out of it); --noapart measures every row in this one process, "
  "without a process start (and a backend start) per row.",
)


def _hours(seconds: float) -> str:
  if not np.isfinite(seconds):
    return "—"
  return f"{seconds / 3600:.1f} h" if seconds >= 360 else f"{seconds:.0f} s"


def _memory_limit() -> float:
  """Bytes one step may use: --memory_gib, else the device's own limit, else (CPU) 70 % of
  this host's RAM (the rest holds the process, the input pipeline and XLA itself)."""
  if FLAGS.memory_gib:
    return FLAGS.memory_gib * 2**30
  stats = jax.devices()[0].memory_stats() or {}
  if "bytes_limit" in stats:
    return float(stats["bytes_limit"])
  return 0.7 * os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


def _compile(experiment, config, mesh, state, batch_size: int):
  """(the loop's step compiled for a global batch of `batch_size` mock examples, compile
  seconds, that batch)."""
  config.data.batch_size = batch_size
  batch, _ = mock_batch(config, mesh)
  return (*compile_step(experiment, mesh, state, batch), batch)


def measure(spec: str, steps: int) -> dict:
  config = load_config(spec, tempfile.mkdtemp(), FLAGS.compute_dtype, FLAGS.batch_size)
  experiment, mesh, state = build(config)
  params = sum(x.size for x in jax.tree.leaves(state) if hasattr(x, "size")) // 1
  full = config.data.batch_size
  compiled, compile_s, batch = _compile(experiment, config, mesh, state, full)
  step_flops = model_flops(experiment, mesh, state, batch)
  xla_flops = flops_lib.compiled_flops(compiled)
  full_bytes = step_bytes(compiled)
  # A step that needs more memory than there is (MAE's batch of 4096 on one device: the
  # paper spread it over 128 TPU cores) is timed at the largest halving of its batch that
  # fits, and its time scaled by the batch ratio; the FLOPs and memory stay the full step's.
  timed = full
  limit = _memory_limit()
  while steps > 0 and step_bytes(compiled) > limit and timed % 2 == 0:
    timed //= 2
    compiled, _, batch = _compile(experiment, config, mesh, state, timed)
  step_s, profiled = float("nan"), None
  if steps > 0 and step_bytes(compiled) > limit:  # an odd batch that still does not fit
    print(
      f"{spec}: its step needs {step_bytes(compiled) / 2**20:,.1f} MiB at batch {timed}, "
      f"more than the {limit / 2**20:,.1f} MiB here, and {timed} does not halve: not timed.",
      file=sys.stderr,
      flush=True,
    )
  elif steps > 0:
    state, _ = compiled(state, batch, np.int32(0))
    jax.block_until_ready(state)
    times = []
    for i in range(steps):
      t = time.perf_counter()
      state, metrics = compiled(state, batch, np.int32(i + 1))
      jax.block_until_ready((state, metrics))
      times.append(time.perf_counter() - t)
    step_s = float(np.median(times)) * full / timed
    if FLAGS.profile:

      def run():
        nonlocal state
        for i in range(steps):
          state, _ = compiled(state, batch, np.int32(steps + 1 + i))
        jax.block_until_ready(state)

      profiled = step_profile.op_times(compiled, run), float(np.median(times))
  n = config.train.num_steps
  peak = flops_lib.peak_flops(jax.devices()[0].device_kind)
  return dict(
    config=spec,
    batch=full,
    timed=timed,
    image=config.data.image_size or "native",
    state_numbers=params,
    compile_s=compile_s,
    step_s=step_s,
    gflop=step_flops / 1e9,
    xla_gflop=xla_flops / 1e9,
    step_mib=full_bytes / 2**20,
    peak_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**10,
    num_steps=n,
    here_s=step_s * n,
    h100_s=step_flops * n / H100_AT_40,
    mfu=step_flops / step_s / peak if peak and np.isfinite(step_s) else None,
    profiled=profiled,
  )


def _time_cell(seconds: float) -> str:
  return "not timed" if not np.isfinite(seconds) else f"{seconds:.3g}"


def _print_row(r: dict):
  mfu = f"{100 * r['mfu']:.1f} %" if r["mfu"] else "—"
  print(
    f"| {r['config']} | {r['batch']} | {r['timed']} | {r['image']} | {r['state_numbers']:,} "
    f"| {r['compile_s']:.1f} | {_time_cell(r['step_s'])} "
    f"| {r['gflop']:.1f} | {r['xla_gflop']:.1f} "
    f"| {mfu} "
    f"| {r['step_mib']:.0f} | {r['peak_mb']:.0f} "
    f"| {r['num_steps']:,} | {_hours(r['here_s'])} | {_hours(r['h100_s'])} |",
    flush=True,
  )
  if r["profiled"]:
    (total, hlo), median_s = r["profiled"]
    step_profile.report(total, hlo, FLAGS.steps, median_s)


_HEADER = (
  "| config | batch | timed at batch | image | state numbers | compile s | s/step here "
  "| GFLOP/step | XLA's GFLOP/step | MFU | step memory MiB | peak RSS MiB | paper steps "
  "| paper's training here | on an H100 at 40 % MFU |\n"
  "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
)


def _measure_apart(spec: str, first: bool):
  """Runs `spec`'s row in a fresh process (--noapart) and forwards its row and profile,
  and where `first` its device line and the table's header; a row of dashes with the
  cause if that process dies."""
  argv = [
    sys.executable,
    os.path.abspath(__file__),
    f"--configs={spec}",
    "--noapart",
    f"--steps={FLAGS.steps}",
    f"--memory_gib={FLAGS.memory_gib}",
    f"--compute_dtype={FLAGS.compute_dtype}",
    f"--batch_size={FLAGS.batch_size}",
    "--profile" if FLAGS.profile else "--noprofile",
  ]
  header_shown = False
  with subprocess.Popen(argv, stdout=subprocess.PIPE, text=True) as proc:
    for line in proc.stdout:
      frame = line.startswith(("device: ", "| config |", "|---|"))
      if not line.startswith("state numbers:") and (first or not frame):
        print(line, end="", flush=True)
        header_shown |= line.startswith("|---|")
  if proc.returncode:
    code = proc.returncode
    cause = (
      f"its process was killed by {signal.Signals(-code).name}"
      + (" (out of memory?)" if code == -signal.SIGKILL else "")
      if code < 0
      else f"its process exited with status {code}"
    )
    if first and not header_shown:  # it died before its device line and header
      print(_HEADER, flush=True)
    print("| " + " | ".join([spec, *["—"] * 5, cause, *["—"] * 8]) + " |", flush=True)


_FOOTER = (
  "state numbers: parameters, optimiser moments and EMA together. step memory: XLA's "
  "memory analysis of the compiled step at the full batch (arguments, outputs and "
  "temporaries: the device memory one step needs). A step larger than the memory there "
  "is was timed at a smaller batch ('timed at batch') and its time scaled to the full "
  "batch. peak RSS: {rss}. The H100 column is FLOPs x steps / (0.4 x 989 TFLOP/s): "
  "compute only, at the MFU this codebase targets, not a measurement. MFU: the measured "
  "step's FLOP/s over the device's dense bf16 peak (accelerators only). GFLOP/step: the "
  "step's products and convolutions (its jaxpr, the same on every backend); XLA's "
  "GFLOP/step: the backend's cost analysis of the compiled step, elementwise work "
  "included (XLA:GPU's undercounts: genjax/train/flops.py)."
)


def main(argv):
  del argv
  logging.set_verbosity(logging.WARNING)
  for spec in FLAGS.configs:
    load_config(spec)  # an unknown config ends here, in one sentence, before the table
  if FLAGS.apart:
    for i, spec in enumerate(FLAGS.configs):
      _measure_apart(spec, first=i == 0)
    print(_FOOTER.format(rss="that row's process's (each row runs in a process of its own)"))
    return
  dev = jax.devices()[0]
  print(
    f"device: {jax.device_count()} x {dev.device_kind} ({jax.default_backend()}), compute "
    f"dtype: {FLAGS.compute_dtype or 'config default'}\n{_HEADER}",
    flush=True,
  )
  for spec in FLAGS.configs:
    _print_row(measure(spec, FLAGS.steps))
  print(_FOOTER.format(rss="the process's, cumulative over rows"), flush=True)


if __name__ == "__main__":
  app.run(main)
