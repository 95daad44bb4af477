"""Shared fixtures: one prepared digits dataset (and feature net) per test session."""

import atexit
import os
import shutil
import subprocess
import sys
import tempfile

import pytest

# Most of the suite's time is XLA optimising programs that then run a few steps on tiny
# shapes: the CycleGAN resume test took 432 s on one core with XLA's optimisation passes
# and 50 s without them. Set before jax is imported, and inherited by the processes that
# the launch tests start; the results tests check are unchanged (equalities hold between
# programs compiled the same way, tolerances are far above the rounding it moves).
# JAX_DISABLE_MOST_OPTIMIZATIONS=0 on the command line restores the optimised build.
os.environ.setdefault("JAX_DISABLE_MOST_OPTIMIZATIONS", "1")

# Many tests compile the same programs again: a resumed run its first half's step, each
# launch test's process the step of the one before, every worker the shared fixtures'
# programs. One persistent compilation cache for the whole session (made by pytest's
# main process, inherited by xdist's workers and by every process the tests start) reads
# them back instead: the CycleGAN resume test, which compiles its step three times, takes
# 39 s instead of 59 s on one core. An executable read back is the one compiled before,
# so equalities between runs hold as they did. Removed when the session ends; set
# JAX_COMPILATION_CACHE_DIR to keep one.
if "PYTEST_XDIST_WORKER" not in os.environ and "JAX_COMPILATION_CACHE_DIR" not in os.environ:
  os.environ["JAX_COMPILATION_CACHE_DIR"] = tempfile.mkdtemp(prefix="genjax-tests-xla-cache-")
  atexit.register(shutil.rmtree, os.environ["JAX_COMPILATION_CACHE_DIR"], ignore_errors=True)
os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", "0")

# Before any test module can start JAX's backend: the launchers' XLA:CPU flag (importing
# `launch` sets it, launch/xla_flags.py), and one for the tests only. XLA:CPU's older loop
# emitters compile faster than its fusion emitters: the CycleGAN step with every
# stabiliser compiled in 14.3 s instead of 17.8 s and its init in 4.8 s instead of 7.2 s
# (3 alternating runs each, one core); the programs they build ran that step in 0.20-0.27
# s either way. Inherited by xdist's workers and the processes the tests start.
from launch import xla_flags  # noqa: E402

xla_flags.add("--xla_cpu_use_fusion_emitters", "false")

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture(scope="session")
def tfds_dir(tmp_path_factory):
  return str(tmp_path_factory.mktemp("shared_tfds"))


@pytest.fixture
def vae_smoke(tfds_dir):
  """The VAE smoke config on the session's data dir."""
  from experiments.configs import vae_digits

  c = vae_digits.get_config("smoke")
  c.data.data_dir = tfds_dir
  return c


def assert_same_state(experiment, config, workdir, other, **tolerance):
  """Both workdirs' newest checkpoints are at config.train.num_steps and hold the same
  state (parameters, optimiser, BatchNorm statistics, step): bitwise, or within
  `tolerance` (np.testing.assert_allclose's atol, rtol) when one is given. Returns the
  first workdir's state."""
  import jax
  import numpy as np

  from genjax.train.loop import restore_latest

  (s1, a), (s2, b) = (
    jax.device_get(restore_latest(experiment, config, w)) for w in (workdir, other)
  )
  assert s1 == s2 == config.train.num_steps
  for (path, x), y in zip(jax.tree_util.tree_leaves_with_path(a), jax.tree.leaves(b)):
    where = jax.tree_util.keystr(path)
    if tolerance:
      np.testing.assert_allclose(x, y, **tolerance, err_msg=where)
    else:
      np.testing.assert_array_equal(x, y, err_msg=where)
  return a


def xla_flags_with(devices: int) -> str:
  """This session's XLA_FLAGS (the tests' flags) with `devices` emulated CPU devices: for
  the processes the tests start, so that they compile as the tests' own process does."""
  return f"{os.environ.get('XLA_FLAGS', '')} --xla_force_host_platform_device_count={devices}"


def run_python(code: str, *, unset=(), **env) -> subprocess.CompletedProcess:
  """Runs `python -c code` on the CPU in a fresh process, with this one's environment
  less the variables in `unset` and with `env`; fails the test with the end of its
  stderr if it fails."""
  inherited = {k: v for k, v in os.environ.items() if k not in unset}
  done = subprocess.run(
    [sys.executable, "-c", code],
    env={**inherited, "JAX_PLATFORMS": "cpu", **env},
    capture_output=True,
    text=True,
  )
  assert done.returncode == 0, done.stderr[-3000:]
  return done


def run_launch(module: str, *args, devices: int = 1, timeout: int = 300, env=None):
  """Runs `python -m launch.<module> args` in a fresh process (its own JAX devices)."""
  full_env = dict(os.environ, **(env or {}))
  full_env["XLA_FLAGS"] = xla_flags_with(devices)
  full_env["PYTHONUNBUFFERED"] = "1"
  return subprocess.run(
    [sys.executable, "-m", f"launch.{module}", *args],
    cwd=REPO,
    env=full_env,
    capture_output=True,
    text=True,
    timeout=timeout,
  )
