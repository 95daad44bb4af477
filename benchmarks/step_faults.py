"""Page faults and kernel time per training step: whether a step's temporaries are
faulted in again on every call (launch/malloc.py).

  python benchmarks/step_faults.py --model=ddpm28 [--steps_per_dispatch=2] [--batch=32]
  XLA_FLAGS=--xla_multiheap_size_constraint_per_heap=-1 python benchmarks/step_faults.py ...

Builds conv_vs_torch.py's genjax step for `--model` (the loop's own jitted step, on a
real batch), calls it 3 times, then times `--calls` more and reads getrusage around
them: minor page faults and kernel (system) seconds per step, and the step's XLA
temporaries. One process, so the time is only comparable with runs side by side
(step_variants.py); the faults and kernel time are the point.
"""

import argparse
import resource


def main():
  import conv_vs_torch

  p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  p.add_argument("--model", default="ddpm28", choices=sorted(conv_vs_torch.MODELS))
  p.add_argument("--batch", type=int, default=0, help="0: the model's batch in conv_vs_torch")
  p.add_argument("--steps_per_dispatch", type=int, default=0, help="0: the config's own")
  p.add_argument("--calls", type=int, default=10)
  a = p.parse_args()
  for name, least in (("batch", 0), ("steps_per_dispatch", 0), ("calls", 1)):
    if getattr(a, name) < least:
      p.error(f"--{name} must be {least} or more, not {getattr(a, name)}")

  from loop_step import step_timer

  batch = a.batch or conv_vs_torch.MODELS[a.model][1]
  compiled, state, data, _, _, k = conv_vs_torch._build(a.model, batch, a.steps_per_dispatch)
  temp = compiled.memory_analysis().temp_size_in_bytes / 2**20
  run = step_timer(compiled, state, data, k, warmup_calls=0, first_step=3 * k)  # _build ran 3
  before = resource.getrusage(resource.RUSAGE_SELF)
  seconds = run(a.calls * k)
  after = resource.getrusage(resource.RUSAGE_SELF)
  steps = a.calls * k
  print(f"{a.model}, batch {batch}, {k} steps per call, XLA temporaries {temp:.1f} MiB:")
  print(
    f"  {1e3 * seconds:.1f} ms/step, "
    f"{(after.ru_minflt - before.ru_minflt) / steps:,.0f} minor faults/step, "
    f"{1e3 * (after.ru_stime - before.ru_stime) / steps:.1f} ms kernel/step"
  )


if __name__ == "__main__":
  main()
