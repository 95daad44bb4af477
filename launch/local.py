"""Runs N JAX processes of an entry point on this machine, as a cluster of N hosts would.

  python -m launch.local --num_processes=2 -- \\
      --config=experiments/configs/vae_digits.py:smoke --workdir=/tmp/mp

Each process gets the flags after `--` plus `--config.parallel.{num_processes,
coordinator_address,process_id}` (the coordinator on 127.0.0.1, a free port), and
either one emulated CPU device or, on a machine with GPUs, its own GPU. Their output is
forwarded line by line behind a `[i]` prefix. When one process fails, the others are
stopped (SIGTERM, then SIGKILL after --grace_s) instead of waiting in a collective for
a peer that is gone; the exit status is the first failure's.
"""

import os
import signal
import socket
import subprocess
import sys
import threading
import time

from absl import app, flags

FLAGS = flags.FLAGS
flags.DEFINE_integer("num_processes", 2, "Processes to start (JAX processes, 'hosts').")
flags.DEFINE_string("module", "launch.train", "The entry point each process runs.")
flags.DEFINE_integer(
  "devices_per_process",
  1,
  "Emulated CPU devices of each process "
  "(ignored where GPUs are visible: each process then gets one).",
)
flags.DEFINE_float(
  "grace_s",
  30.0,
  "Seconds the other processes get to exit after SIGTERM when one has failed, before SIGKILL.",
)


def free_port() -> int:
  with socket.socket() as s:
    s.bind(("127.0.0.1", 0))
    return s.getsockname()[1]


def process_env(i: int, devices: int) -> dict:
  env = dict(os.environ, PYTHONUNBUFFERED="1")
  gpus = [g for g in env.get("CUDA_VISIBLE_DEVICES", _visible_gpus()).split(",") if g]
  if gpus:
    env["CUDA_VISIBLE_DEVICES"] = gpus[i % len(gpus)]
  else:
    env["JAX_PLATFORMS"] = env.get("JAX_PLATFORMS", "cpu")
    env["XLA_FLAGS"] = (
      env.get("XLA_FLAGS", "") + f" --xla_force_host_platform_device_count={devices}"
    ).strip()
  return env


def _visible_gpus() -> str:
  try:
    out = subprocess.run(
      ["nvidia-smi", "--query-gpu=index", "--format=csv,noheader"],
      capture_output=True,
      text=True,
      timeout=20,
      check=False,
    ).stdout
  except (OSError, subprocess.SubprocessError):
    return ""
  return ",".join(line.strip() for line in out.splitlines() if line.strip())


def _forward(stream, prefix: str, sink) -> None:
  for line in iter(stream.readline, ""):
    sink.write(prefix + line)
    sink.flush()
  stream.close()


def launch(
  num_processes: int, module: str, args: list, *, devices: int = 1, grace_s: float = 30.0
) -> int:
  """Starts the processes, forwards their output, returns the run's exit status."""
  address = f"127.0.0.1:{free_port()}"
  procs, threads = [], []
  for i in range(num_processes):
    cmd = [
      sys.executable,
      "-m",
      module,
      *args,
      f"--config.parallel.num_processes={num_processes}",
      f"--config.parallel.coordinator_address={address}",
      f"--config.parallel.process_id={i}",
    ]
    p = subprocess.Popen(
      cmd,
      env=process_env(i, devices),
      stdout=subprocess.PIPE,
      stderr=subprocess.PIPE,
      text=True,
      bufsize=1,
    )
    procs.append(p)
    for stream, sink in ((p.stdout, sys.stdout), (p.stderr, sys.stderr)):
      t = threading.Thread(target=_forward, args=(stream, f"[{i}] ", sink), daemon=True)
      t.start()
      threads.append(t)
  status = 0
  try:
    while True:
      codes = [p.poll() for p in procs]  # every one polled: any() would stop early
      if all(c is not None for c in codes):
        break
      failed = [c for c in codes if c not in (None, 0)]
      if failed:
        status = failed[0]
        _stop(procs, grace_s)
        break
      time.sleep(0.2)
  except KeyboardInterrupt:
    _stop(procs, grace_s)
    status = 128 + signal.SIGINT
  for t in threads:
    t.join(timeout=5)
  return status or next((p.returncode for p in procs if p.returncode), 0)


def _stop(procs, grace_s: float) -> None:
  for p in procs:
    if p.poll() is None:
      p.send_signal(signal.SIGTERM)
  deadline = time.monotonic() + grace_s
  for p in procs:
    try:
      p.wait(timeout=max(0.0, deadline - time.monotonic()))
    except subprocess.TimeoutExpired:
      p.kill()
      p.wait()


def main(argv):
  args = argv[1:]
  if FLAGS.num_processes < 1:
    print(f"error: --num_processes must be at least 1, not {FLAGS.num_processes}.", file=sys.stderr)
    sys.exit(2)
  sys.exit(
    launch(
      FLAGS.num_processes,
      FLAGS.module,
      args,
      devices=FLAGS.devices_per_process,
      grace_s=FLAGS.grace_s,
    )
  )


if __name__ == "__main__":
  app.run(main)
