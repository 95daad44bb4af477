"""glibc's malloc told to keep the blocks XLA:CPU frees after every step, instead of
handing them back to the kernel and faulting their pages in again on the next step.

XLA:CPU takes each call's temporaries from malloc on one of its own threads. With
glibc's defaults a large block there is mmapped and unmapped, or trimmed off its heap
when freed, so every step faults in every page of it again: the PixelCNN digits step (87
MB of temporaries) took 22,240 page faults and 37-41 ms of kernel time per step of its
0.097-0.105 s on one core (getrusage, 2026-12-05, 2 AVX-512 cores, jaxlib 0.10.2). With
mmap off (M_MMAP_MAX = 0) and the heaps never trimmed below 2 GiB (M_TRIM_THRESHOLD) the
blocks are reused, once each of XLA's threads has allocated them. Measured side by side
(benchmarks/step_variants.py --variants=system_malloc,default, 9 rounds, 2 cores, each
config's own batch): the DDPM digits step took 0.85x its time with glibc's defaults, the
conv VAE's 0.84x; the same options set through GLIBC_TUNABLES gave 0.80-0.81x, 0.85x,
PixelCNN 0.91-1.00x and the paper DCGAN 1.00x. In benchmarks/conv_vs_torch.py (15
processes at once, other batches) the five conv steps took 0.93x (conv VAE) and
0.99-1.03x (the rest) the time: within that benchmark's noise.

A block larger than a thread's heap (64 MiB) is mmapped whatever the options: glibc
serves it from mmap on any thread but the main one (XLA allocates on its own), and
unmaps it when freed. XLA:CPU asks for a call's temporaries as one block, which the
autoregressive digits steps (85-258 MiB) and the DDPM U-Net's at 16x16 and 28x28
outgrow: the 28x28 U-Net's step (218 MiB at batch 32) took 55,785 page faults and
105-113 ms of kernel time per 0.26 s step. So XLA is also asked for its temporaries in
blocks of at most 32 MiB (--xla_multiheap_size_constraint_per_heap, an option of its
buffer assignment: the same program, results and 0.2 % more temporary memory there),
which the threads' heaps keep: that step then took 4,109-8,204 faults and 13-16 ms of
kernel time (getrusage, 2026-12-06). Some faults remain (glibc's heap_trim unmaps a
thread heap left empty, whatever the trim threshold: read in its source, not traced),
and several steps per jitted call (train.steps_per_dispatch) still pay in some configs.
Measured side by side (benchmarks/step_variants.py, float32, 7 rounds, 2 cores,
2026-12-06; one block against blocks of 32 MiB, one step per call): the 28x28 U-Net's
step (batch 32) took 0.73x the time, the 16x16 U-Net's (batch 64) 0.83x, PixelCNN's
0.78x, Gated PixelCNN's 0.74x, Row LSTM's 0.73x, Diagonal BiLSTM's 0.69x, the 8x8
U-Net's 0.95x; with the configs' own steps per call, 0.88x (28x28, k2), 0.87x (16x16,
k2), 0.87x (PixelCNN, k5), 0.92x (Gated PixelCNN, k5). The conv VAE's, DCGAN's and
CycleGAN's steps, whose blocks fit, 1.00-1.03x (noise). Added like launch/xla_flags.py's
flag: for the jaxlib it was measured on only, never over the user's value. XLA:CPU
cannot serialise a program whose temporaries are in several blocks ("Multiple temp
buffer allocations found"), so JAX's persistent compilation cache
(JAX_COMPILATION_CACHE_DIR) compiles those programs afresh in every process; its warning
for each is silenced. So is XLA's C++ warning for each buffer larger than a block, which
it logs many times over for a paper-sized model (TF_CPP_MIN_LOG_LEVEL=2 where the user
has not set it and `launch` is imported before jax: C++ errors are still shown).

Tried and not kept: one arena for all threads as well (M_ARENA_MAX = 1), which puts even
PixelCNN's block on the reused main heap (0 faults; 0.78-0.79x, and 0.60x in one
conv_vs_torch run) but makes the threads queue on its lock: the paper DCGAN's step 1.09x
(1.26x in that conv_vs_torch run), the 8x8 U-Net's 0.98-1.05x (1.19x with the arena
limit alone, 1.71x in that run at batch 32); transparent huge pages for malloc's blocks
(GLIBC_TUNABLES glibc.malloc.hugetlb=1): PixelCNN 1.12x, the 28x28 U-Net 1.29x, with two
processes running.

The price: memory freed by the process stays with it, up to 2 GiB above what it uses.
So this is for CPU training only: it is left alone where a GPU or TPU is present or
JAX_PLATFORMS names another platform, and GENJAX_MALLOC=system keeps glibc's defaults.
Set when `launch` is imported, before JAX allocates its first step.
"""

from __future__ import annotations

import ctypes
import glob
import os
import sys
import warnings

from launch import xla_flags

M_TRIM_THRESHOLD, M_MMAP_MAX = -1, -4
KEEP_BYTES = 2**31 - 1  # mallopt takes an int: the heap's free top is kept up to 2 GiB
# XLA's temporaries in blocks of at most this many bytes: half a thread heap (64 MiB),
# glibc's largest mmap threshold, so that each fits a heap beside another.
HEAP_FLAG = "--xla_multiheap_size_constraint_per_heap"
HEAP_BYTES = 32 << 20
LOG_LEVEL = "TF_CPP_MIN_LOG_LEVEL"  # of XLA's C++ logs: 2 shows errors, not warnings


def applies(environ=os.environ) -> bool:
  """Whether the process trains on the CPU under glibc, and the user has not opted out."""
  if environ.get("GENJAX_MALLOC", "") == "system":
    return False
  if environ.get("JAX_PLATFORMS", "cpu").split(",")[0] not in ("", "cpu"):
    return False
  try:
    if not os.confstr("CS_GNU_LIBC_VERSION").startswith("glibc"):
      return False
  except (ValueError, OSError, AttributeError):  # not glibc, or not a POSIX system
    return False
  return not (os.path.exists("/dev/nvidiactl") or glob.glob("/dev/accel*"))


def keep_step_buffers() -> bool:
  """Sets both options where `applies`, and asks XLA for its temporaries in blocks that
  fit a thread's heap; True if glibc took the options."""
  if not applies():
    return False
  xla_flags.add(HEAP_FLAG, str(HEAP_BYTES))
  ours = f"{HEAP_FLAG}={HEAP_BYTES}" in os.environ.get("XLA_FLAGS", "").split()
  if ours and "jax" not in sys.modules:  # (also where a parent process added it)
    # XLA warns of every buffer over the limit, for each heap it lays out: 40,892 lines
    # while compiling ddpm_cifar10's step at its paper batch (its activations outsize 32
    # MiB). Its C++ warnings are read from this variable when jax is imported (which
    # sets 1, warnings shown, where it is unset); a value of the user's stays.
    os.environ.setdefault(LOG_LEVEL, "2")
  warnings.filterwarnings(
    "ignore", r"Error writing persistent compilation cache entry.*Multiple temp buffer"
  )
  libc = ctypes.CDLL(None)
  return all(
    libc.mallopt(option, value) == 1
    for option, value in ((M_MMAP_MAX, 0), (M_TRIM_THRESHOLD, KEEP_BYTES))
  )
