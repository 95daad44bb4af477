"""A stand-in for an entry point under launch.local: process 1 fails at once, process 0
would wait for it for minutes (as a process blocked in a collective would)."""

import sys
import time

pid = int(next(a for a in sys.argv if a.startswith("--config.parallel.process_id=")).split("=")[1])
print(f"worker {pid} of {sys.argv[-3].split('=')[1]} started", flush=True)
if pid == 1:
  print("worker 1 fails", file=sys.stderr, flush=True)
  sys.exit(3)
time.sleep(300)
