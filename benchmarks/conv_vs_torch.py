"""Training-step time of the conv families: genjax against PyTorch, side by side.

  python benchmarks/conv_vs_torch.py --torch_python=/path/to/venv-with-torch/bin/python \
      [--models=vae_conv,pixelcnn,dcgan,ddpm8,ddpm16,ddpm28] [--rounds=7] \
      [--baseline_repo=/path/to/an/older/checkout]
  python benchmarks/conv_vs_torch.py --profile=pixelcnn   # genjax's costliest XLA ops
  ... --models=ddpm28,ddpm28_nodrop,ddpm28_noattn,ddpm28_plain  # the U-Net less its parts

For each model, one full training step (forward, backward, clipping, Adam, EMA; DCGAN:
its D step and its G step) of
  * genjax: the loop's own jitted step built from the real config (as
    benchmarks/train_throughput.py), on a real batch of the config's pipeline;
  * torch: the same architecture in PyTorch (benchmarks/torch_conv_models.py: same layer
    shapes, same parameter count, printed), eager, NCHW (--torch_channels_last: NHWC);
  * with --baseline_repo: genjax's step from that checkout (its own `genjax` and
    `experiments`), the "before" of a change measured in the same run.
Each side of each model runs in its own worker process, all started first (all five
models with a baseline and torch: 15 processes, 8.9 GB at peak here); every
round times each of them in turn for about `--seconds` (`--rounds` rounds), and the
median seconds per step of each is reported (the CPU is shared, so only ratios
measured this way are worth quoting); each ratio is the median over rounds of the two
sides' ratio in the same round, with its range, so that a change in the machine's speed
between rounds cancels. Its noise: an A/A run of the same tree as both genjax and
baseline gave 1.03 (0.98-1.08) on the conv VAE and 1.01 (0.96-1.08) on DCGAN (9 rounds).
torch runs with torch.set_num_threads(--threads);
XLA:CPU uses its default thread pool (one thread per core). torch is never imported by
genjax: it lives in the --torch_python interpreter only; without one, the genjax sides
are measured alone.

genjax's side runs its config's own train.steps_per_dispatch (the loop's k steps per
jitted call; --steps_per_dispatch overrides it), as launch.train would, and reports
seconds per step; torch steps one at a time.

Result, 2026-12-06 00:33, 2 idle CPU cores (AMD EPYC with AVX-512), jax 0.10.2, torch
2.13.0+cpu with 2 threads, NCHW ("baseline": 9db8cad, the same steps per call, XLA's
temporaries in one block; s: seconds per step; g/t, b/t: genjax's and the baseline's time
over torch's):

  python benchmarks/conv_vs_torch.py --torch_python=<venv>/bin/python \
      --baseline_repo=<git archive of 9db8cad> --rounds=7

| model | batch | steps per call | genjax s | baseline s | torch s | g/t | b/t |
|---|---:|---:|---:|---:|---:|---:|---:|
| vae_conv | 128 | 1 / 1 | 0.0933 | 0.0987 | 0.1026 | 0.91 | 0.96 |
| pixelcnn | 32 | 5 / 5 | 0.0359 | 0.0400 | 0.0520 | 0.69 | 0.77 |
| dcgan | 64 | 1 / 1 | 0.0255 | 0.0262 | 0.0308 | 0.83 | 0.85 |
| ddpm8 | 32 | 1 / 1 | 0.0211 | 0.0210 | 0.0355 | 0.60 | 0.59 |
| ddpm28 | 32 | 2 / 2 | 0.2131 | 0.2427 | 0.2001 | 1.06 | 1.21 |

The PixelCNN and 28x28 U-Net steps run several steps per call, and XLA hands over every
step's temporaries in blocks of at most 32 MiB (launch/malloc.py), because as one block
(87 and 218 MiB at these batches) they outgrow a thread's malloc heap and are mapped
afresh, and faulted in page by page, on every call
(benchmarks/RESULTS.md). torch's own step moves between runs on this machine (its conv
VAE step 0.079-0.125 s one day), so the ratios to torch do too; they also depend on the
CPU: on an AVX2 machine (2026-12-03) genjax's conv VAE and PixelCNN steps took 0.91x
and 0.92x torch's, and with AVX-512 torch's oneDNN convolutions gain more (2.1-2.4x
faster steps than there) than XLA's Eigen ones (1.6x). genjax against its own baseline
is the steadier figure.
"""

import argparse
import os
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)

# name: (genjax config, batch)
MODELS = {
  "vae_conv": ("vae_digits:conv", 128),
  "pixelcnn": ("pixelcnn_digits", 32),
  "dcgan": ("dcgan_digits:paper", 64),  # torch_conv_models.dcgan: no augmentation
  "ddpm8": ("ddpm_digits", 32),
  "ddpm16": ("ddpm_digits:size=16", 64),
  "ddpm28": ("ddpm_digits:size=28", 32),
}
# The 28x28 U-Net without parts, to split its step time between them (genjax's model
# config; torch_conv_models.py has the same three). Attention stays in the middle block.
ABLATIONS = {
  "ddpm28_nodrop": dict(dropout=0.0),
  "ddpm28_noattn": dict(attn_resolutions=()),
  "ddpm28_plain": dict(dropout=0.0, attn_resolutions=()),
}
MODELS.update({name: MODELS["ddpm28"] for name in ABLATIONS})


# ------------------------------------------------------------------ the genjax worker


def serve(ready: str, run):
  """A worker's side of the protocol: prints "ready <int> <info>", then answers each
  "run K" with run(K), the seconds per step of K more steps, until "quit" or the end of
  its input. Plain Python, so that torch's interpreter runs it too."""
  print(f"ready {ready}", flush=True)
  for line in sys.stdin:
    cmd = line.split()
    if not cmd or cmd[0] == "quit":
      break
    print(run(int(cmd[1])), flush=True)


def genjax_worker(model: str, batch: int, per_call: int = 0):
  import jax
  from loop_step import step_timer

  compiled, state, data, params, compile_s, k = _build(model, batch, per_call)
  run = step_timer(compiled, state, data, k, warmup_calls=0, first_step=3 * k)  # _build ran 3
  serve(f"{params} jax {jax.__version__} compile_s {compile_s:.1f} k {k}", run)


def _build(model: str, batch: int, per_call: int = 0):
  """(compiled step, state, batch, parameter count, compile seconds, steps per call) of
  genjax's step: k = `per_call` steps per jitted call, or the config's own
  train.steps_per_dispatch where 0, as launch.train would run it."""
  from absl import logging
  import jax
  from loop_step import build, compile_step, load_config, stacked_batch
  import numpy as np

  from genjax import data as gdata
  from genjax.train import mesh as mesh_lib
  from genjax.train.state import TrainState

  logging.set_verbosity(logging.WARNING)
  config = load_config(MODELS[model][0], batch_size=batch)
  config.model.update(ABLATIONS.get(model, {}))
  k = per_call or int(config.train.get("steps_per_dispatch", 1))
  experiment, mesh, state = build(config)
  it = gdata.make_train_iterator(config.data, seed=0, process_index=0, process_count=1)
  host = next(it)
  data = stacked_batch(host, mesh, k) if k > 1 else mesh_lib.global_batch(host, mesh)
  compiled, compile_s = compile_step(experiment, mesh, state, data, k)
  for i in range(3):
    state, _ = compiled(state, data, np.int32(i * k))
  jax.block_until_ready(state)
  # The networks' parameters only: a state also holds other arrays (DCGAN's ADA probability).
  is_train_state = lambda s: isinstance(s, TrainState)
  trainable = [
    s.params for s in jax.tree.leaves(state, is_leaf=is_train_state) if is_train_state(s)
  ]
  params = sum(x.size for x in jax.tree.leaves(trainable))
  return compiled, state, data, params, compile_s, k


def profile(model: str, batch: int, steps: int = 5, top: int = 25):
  """Prints where the step's time goes on XLA:CPU (ms per step by kind of op, then the
  costliest thunks with the convolutions / dots / transposes each fused computation
  holds), from a jax.profiler trace. Thunks may run asynchronously, so a convolution's
  row may time its dispatch rather than its work."""
  import time

  import jax
  import numpy as np
  import step_profile

  compiled, state, data, _, _, k = _build(model, batch, 1)

  def run():
    nonlocal state
    for i in range(steps):
      state, _ = compiled(state, data, np.int32(10 + i))
    jax.block_until_ready(state)

  t = time.perf_counter()
  run()
  step_s = (time.perf_counter() - t) / steps
  print(f"{model} at batch {batch}, one step per call:")
  step_profile.report(*step_profile.op_times(compiled, run), steps, step_s, top)


# -------------------------------------------------------------------- the orchestrator


class Worker:
  """A timing process: started at once, `ready()` waits for its "ready <int> <info>" line
  (so that several can compile at the same time), then `run(k)` times k steps."""

  def __init__(self, label, argv, env=None, cwd=None, wait=True):
    self.label = label
    self.proc = subprocess.Popen(
      argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env, cwd=cwd
    )
    if wait:
      self.ready()

  def ready(self):
    for raw in self.proc.stdout:  # past what else it prints (a dataset's preparation)
      line = raw.split()
      if line and line[0] == "ready":
        break
    else:
      self.proc.kill()
      raise RuntimeError(f"{self.label} worker exited before it was ready")
    self.params, self.info = int(line[1]), " ".join(line[2:])

  def run(self, k: int) -> float:
    self.proc.stdin.write(f"run {k}\n")
    self.proc.stdin.flush()
    return float(self.proc.stdout.readline())

  def close(self):
    self.proc.stdin.write("quit\n")
    self.proc.stdin.flush()
    self.proc.wait()


def time_rounds(workers: dict, seconds: float, rounds: int) -> dict:
  """{key: seconds per step in each round}: every round times each worker in turn for
  about `seconds`, so that a change in the machine's speed reaches them all alike; then
  closes them."""
  steps = {key: max(1, round(seconds / w.run(1))) for key, w in workers.items()}
  times = {key: [] for key in workers}
  for _ in range(rounds):
    for key, w in workers.items():
      times[key].append(w.run(steps[key]))
  for w in workers.values():
    w.close()
  return times


def paired_ratio(times: list, reference: list, digits: int = 2) -> str:
  """The median over rounds of one side's time over another's in the same round, and its
  range: a change in the machine's speed between rounds cancels in each round's ratio,
  where the ratio of two medians would keep it. "0.99 (0.95-1.04)"."""
  ratios = sorted(t / r for t, r in zip(times, reference))
  lo, mid, hi = (f"{r:.{digits}f}" for r in (ratios[0], statistics.median(ratios), ratios[-1]))
  return f"{mid} ({lo}-{hi})"


def genjax_argv(model, batch, per_call=0):
  return [
    sys.executable,
    os.path.abspath(__file__),
    *("--worker", model, "--batch", str(batch), "--steps_per_dispatch", str(per_call)),
  ]


def main():
  p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  p.add_argument("--models", default=",".join(m for m in MODELS if m not in ABLATIONS))
  p.add_argument("--torch_python", default="", help="an interpreter with torch ('' = none)")
  p.add_argument("--baseline_repo", default="", help="another genjax checkout to time too")
  p.add_argument("--rounds", type=int, default=7)
  p.add_argument("--seconds", type=float, default=1.5, help="per side per round")
  p.add_argument("--threads", type=int, default=2, help="torch.set_num_threads")
  p.add_argument("--torch_channels_last", action="store_true", help="torch in NHWC memory")
  p.add_argument("--profile", default="", help="only print MODEL's most expensive ops")
  p.add_argument("--worker", default="", help=argparse.SUPPRESS)
  p.add_argument("--batch", type=int, default=0, help="override every model's batch")
  p.add_argument(
    "--steps_per_dispatch",
    type=int,
    default=0,
    help="genjax's steps per jitted call (0: each config's own train.steps_per_dispatch)",
  )
  a = p.parse_args()
  if a.batch < 0:
    p.error(f"--batch must be 0 or more, not {a.batch}")
  if a.steps_per_dispatch < 0:
    p.error(f"--steps_per_dispatch must be 0 or more, not {a.steps_per_dispatch}")
  unknown = sorted(set(a.models.split(",") + [a.profile] * bool(a.profile)) - set(MODELS))
  if unknown:
    p.error(f"unknown model(s) {', '.join(unknown)}; known: {', '.join(MODELS)}")
  if a.worker:
    return genjax_worker(a.worker, a.batch, a.steps_per_dispatch)
  if a.profile:
    return profile(a.profile, a.batch or MODELS[a.profile][1])

  print(
    "| model | batch | steps per call | params genjax / torch | genjax s/step | "
    + ("baseline s/step | " if a.baseline_repo else "")
    + "torch s/step | genjax / torch"
    + (" | baseline / torch | genjax / baseline" if a.baseline_repo else "")
    + " |",
    flush=True,
  )
  print(
    "|---|---:|---:|---:|---:|"
    + ("---:|" if a.baseline_repo else "")
    + "---:|---:|"
    + ("---:|---:|" if a.baseline_repo else "")
  )
  # Every model's workers start first and are then timed in the same rounds, so that a
  # change in the machine's speed during the run reaches every row alike.
  models = a.models.split(",")
  workers = {}  # (model, side) -> Worker
  for model in models:
    batch = a.batch or MODELS[model][1]
    argv = genjax_argv(model, batch, a.steps_per_dispatch)
    workers[model, "genjax"] = Worker("genjax", argv, cwd=REPO)
    if a.baseline_repo:
      env = dict(os.environ, PYTHONPATH=os.path.abspath(a.baseline_repo))
      workers[model, "baseline"] = Worker("baseline", argv, env=env, cwd=a.baseline_repo)
    if a.torch_python:
      workers[model, "torch"] = Worker(
        "torch",
        [
          a.torch_python,
          os.path.join(HERE, "torch_conv_models.py"),
          model,
          str(batch),
          str(a.threads),
        ]
        + (["channels_last"] if a.torch_channels_last else []),
      )
  infos = {f"{w.label}: {w.info.split(' compile_s')[0]}" for w in workers.values()}
  times = time_rounds(workers, a.seconds, a.rounds)
  for model in models:
    med = {side: statistics.median(v) for (m, side), v in times.items() if m == model}
    torch_s = med.get("torch")
    ratio = lambda side: paired_ratio(times[model, side], times[model, "torch"]) if torch_s else "—"
    params = f"{workers[model, 'genjax'].params:,} / " + (
      f"{workers[model, 'torch'].params:,}" if torch_s else "—"
    )
    per_call = " / ".join(
      workers[model, side].info.split(" k ")[-1] for side in ("genjax", "baseline") if side in med
    )
    row = f"| {model} | {a.batch or MODELS[model][1]} | {per_call} | {params} "
    row += f"| {med['genjax']:.4f} | "
    if a.baseline_repo:
      row += f"{med['baseline']:.4f} | "
    row += (f"{torch_s:.4f}" if torch_s else "—") + f" | {ratio('genjax')}"
    if a.baseline_repo:
      row += (
        f" | {ratio('baseline')} | {paired_ratio(times[model, 'genjax'], times[model, 'baseline'])}"
      )
    print(row + " |", flush=True)
  print("; ".join(sorted(infos)) + f"; torch threads {a.threads}; {a.rounds} rounds")
  print(
    "steps per call: genjax's (/ the baseline's) training steps per jitted call "
    "(train.steps_per_dispatch; s/step is per step either way); torch's are one at a time. "
    "s/step: the median over rounds; a / b: the median over rounds of a's time over b's in "
    "the same round, with their range"
  )


if __name__ == "__main__":
  main()
