"""launch/malloc.py: glibc keeps XLA:CPU's step buffers, so a step does not fault its
temporaries' pages in again on every call (the DDPM digits step: 0.80x its time), and XLA
hands them over in blocks a thread's heap can keep (the 28x28 U-Net's: 0.73x)."""

import os

import pytest

from launch import malloc
from tests.conftest import run_python

# Repeated calls of a program with PRODUCTS + 1 temporaries of 16 MiB (outer products,
# live at once, and their sum's reversal; 5 ms a call where the tests' unoptimised cumsum
# took 0.5 s), which XLA allocates on its own thread: the page faults of the later calls.
FAULTS = """
import resource
import launch
import jax, jax.numpy as jnp
def f(x):
  outer = [x[:, 8 * i : 8 * i + 8] @ x[8 * i : 8 * i + 8, :] for i in range(PRODUCTS)]
  return (jnp.flip(sum(outer), 0) @ x[:, :8]).sum()
f = jax.jit(f)
x = jnp.ones((2048, 2048))
for _ in range(30):  # until each of XLA's threads has had its turn to allocate them
  f(x).block_until_ready()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(10):
  f(x).block_until_ready()
print((resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before) // 10)
"""


def _faults_per_call(products: int = 1, **env) -> int:
  out = run_python(FAULTS.replace("PRODUCTS", str(products)), unset=["GENJAX_MALLOC"], **env)
  return int(out.stdout.split()[-1])


@pytest.mark.skipif(not malloc.applies({}), reason="glibc on a machine without accelerators")
def test_a_programs_temporaries_are_not_faulted_in_again_on_every_call():
  pages = 2 * 2048 * 2048 * 4 // os.sysconf("SC_PAGE_SIZE")
  assert _faults_per_call() < pages // 3
  # glibc's defaults (the check can fail): every call faults its temporaries in again
  assert _faults_per_call(GENJAX_MALLOC="system") > pages // 2


@pytest.mark.skipif(not malloc.applies({}), reason="glibc on a machine without accelerators")
def test_temporaries_larger_than_a_threads_heap_are_not_faulted_in_again():
  """96 MiB of temporaries: as one block, more than a thread's 64 MiB heap, glibc maps it
  afresh on every call whatever its options; in XLA blocks of 32 MiB its heaps keep them."""
  pages = 6 * 2048 * 2048 * 4 // os.sysconf("SC_PAGE_SIZE")
  assert _faults_per_call(5) < pages // 3
  # one block (the check can fail), with glibc's options still set: mapped on every call
  one_block = f"{os.environ.get('XLA_FLAGS', '')} {malloc.HEAP_FLAG}=-1"
  assert _faults_per_call(5, XLA_FLAGS=one_block) > pages // 2


def test_it_is_left_alone_where_the_user_or_an_accelerator_says_so():
  assert not malloc.applies({"GENJAX_MALLOC": "system"})
  assert not malloc.applies({"JAX_PLATFORMS": "cuda"})
  assert not malloc.applies({"JAX_PLATFORMS": "tpu,cpu"})


# A program with one 64 MiB temporary, more than a block of XLA's temporaries: XLA's C++
# warns of it ("larger than the per-heap size limit") for every heap it lays out.
LARGE_BUFFER = """
import launch
import jax, jax.numpy as jnp
print(jax.jit(lambda x: jnp.sin(jnp.cos(x) @ x.T).sum())(jnp.ones((4096, 4096))))
"""


@pytest.mark.skipif(not malloc.applies({}), reason="glibc on a machine without accelerators")
def test_xla_warnings_of_buffers_over_a_block_are_not_printed_unless_the_user_asks():
  def stderr(**env):
    return run_python(LARGE_BUFFER, unset=["GENJAX_MALLOC", malloc.LOG_LEVEL], **env).stderr

  if malloc.HEAP_FLAG not in os.environ.get("XLA_FLAGS", ""):
    pytest.skip("the block size is set for the jaxlib it was measured on only")
  assert "per-heap size limit" not in stderr()
  assert "per-heap size limit" in stderr(**{malloc.LOG_LEVEL: "1"})  # the user's value
