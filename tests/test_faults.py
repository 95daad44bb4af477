"""Faults a run meets in the wild: a poisoned batch, a change of device count between
resumes, a full disk, a read-only workdir. Each ends in a valid run or one sentence with
exit status 2, and never costs an earlier checkpoint. (SIGKILL at random points is
benchmarks/kill_trials.py: minutes, not a test.)"""

import functools
import os
import shlex
import subprocess
import sys

import jax
import numpy as np
import pytest

import experiments
from genjax.errors import StorageError, TrainingDiverged
from genjax.train import storage
from genjax.train.loop import restore_latest, train_and_evaluate
from tests.conftest import REPO, run_launch, xla_flags_with
from tests.fault_worker import poison_batches

CONFIG = "experiments/configs/vae_digits.py:smoke"
QUIET = (
  "--figures=false",
  "--config.train.eval_every=0",
  "--config.train.sample_every=0",
  "--config.eval.fd_num_samples=0",
)


def _args(workdir, tfds_dir):
  return [f"--config={CONFIG}", f"--workdir={workdir}", f"--config.data.data_dir={tfds_dir}"]


def _env(**extra):
  return dict(
    os.environ,
    XLA_FLAGS=xla_flags_with(1),
    PYTHONUNBUFFERED="1",
    **extra,
  )


def _fault_worker(args, fault):
  """launch.train through tests/fault_worker.py, with GENJAX_FAULT=`fault` injected."""
  return subprocess.run(
    [sys.executable, "-m", "tests.fault_worker", *args],
    cwd=REPO,
    env=_env(GENJAX_FAULT=fault),
    capture_output=True,
    text=True,
    timeout=300,
  )


def _one_sentence(result, *fragments):
  assert result.returncode == 2, result.stderr[-3000:]
  assert "Traceback" not in result.stderr, result.stderr[-3000:]
  errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
  assert len(errors) == 1, result.stderr[-3000:]
  for fragment in fragments:
    assert fragment in errors[0], errors[0]
  return errors[0]


def _finite_checkpoint(workdir, config, step):
  """The newest checkpoint in workdir is `step` and restores to finite parameters."""
  got, state = restore_latest(experiments.build(config), config, workdir)
  assert got == step
  assert all(np.all(np.isfinite(x)) for x in jax.tree.leaves(jax.device_get(state.params)))


# -- a NaN or Inf in a batch --------------------------------------------------------------


@pytest.mark.parametrize("value", [float("nan"), float("inf")])
def test_a_poisoned_batch_stops_the_run_with_the_last_good_checkpoint(value, vae_smoke, tmp_path):
  """The batch of step 12 holds one non-finite pixel: the run stops at the log step that
  sees it (15), names it, and the newest checkpoint is the last good one (10)."""
  from tests.test_train_loop import _toy

  c = vae_smoke
  c.data.name, c.data.binarize = "digits", "none"  # 8x8: the toy has 64 weights
  c.train.update(num_steps=30, log_every=5, checkpoint_every=10, eval_every=0, sample_every=0)
  workdir = str(tmp_path / "poisoned")
  with pytest.raises(TrainingDiverged, match=r"train/loss became (nan|inf) by step 15.*step 10"):
    train_and_evaluate(poison_batches(_toy(), 12, value), c, workdir)
  assert sorted(os.listdir(os.path.join(workdir, "checkpoints"))) == ["10"]
  step, state = restore_latest(_toy(), c, workdir)
  assert step == 10 and np.all(np.isfinite(state.params["w"]))


def test_a_poisoned_batch_ends_launch_train_in_one_sentence(tmp_path, tfds_dir, vae_smoke):
  workdir = str(tmp_path / "poisoned")
  result = _fault_worker([*_args(workdir, tfds_dir), *QUIET], "batch:12:nan")
  _one_sentence(result, "became nan by step 15", "last good checkpoint (step 10)")
  _finite_checkpoint(workdir, vae_smoke, 10)


# -- devices: 2, then 1, then 2 -----------------------------------------------------------


def test_a_run_trained_on_two_devices_samples_and_resumes_on_one_and_back_on_two(
  tmp_path, tfds_dir
):
  workdir = str(tmp_path / "topology")
  base = [*_args(workdir, tfds_dir), *QUIET, "--config.train.checkpoint_every=5"]
  first = run_launch("train", *base, "--config.train.num_steps=10", devices=2)
  assert first.returncode == 0, first.stderr[-3000:]
  out = str(tmp_path / "grid.png")
  sampled = run_launch("sample", f"--workdir={workdir}", "--num=4", f"--out={out}", devices=1)
  assert sampled.returncode == 0, sampled.stderr[-3000:]
  assert np.load(str(tmp_path / "grid.npz"))["images"].shape == (4, 28, 28, 1)
  for devices, start, end in ((1, 10, 15), (2, 15, 20)):
    result = run_launch("train", *base, f"--config.train.num_steps={end}", devices=devices)
    assert result.returncode == 0, result.stderr[-3000:]
    assert f"from step {start}" in result.stdout and f"step {end}/{end}" in result.stdout
  steps = sorted(int(s) for s in os.listdir(os.path.join(workdir, "checkpoints")))
  assert steps[-1] == 20


# -- storage: a full disk, a read-only workdir --------------------------------------------


@functools.cache
def _can_mount() -> bool:
  """Whether this machine lets a test mount a tmpfs in its own user and mount namespace
  (no root needed); where it cannot (or GENJAX_SIMULATE_STORAGE_FAULTS=1), the faults are
  simulated in the process."""
  if os.environ.get("GENJAX_SIMULATE_STORAGE_FAULTS") == "1":
    return False
  try:
    probe = subprocess.run(
      ["unshare", "--user", "--map-root-user", "--mount", "sh", "-c", "mount -t tmpfs none /mnt"],
      capture_output=True,
      timeout=20,
    )
  except (OSError, subprocess.TimeoutExpired):
    return False
  return probe.returncode == 0


def _in_namespace(script: str, timeout=300):
  env = _env(JAX_DISABLE_MOST_OPTIMIZATIONS=os.environ["JAX_DISABLE_MOST_OPTIMIZATIONS"])
  return subprocess.run(
    ["unshare", "--user", "--map-root-user", "--mount", "sh", "-c", script],
    cwd=REPO,
    env=env,
    capture_output=True,
    text=True,
    timeout=timeout,
  )


def test_a_full_disk_is_one_sentence_and_keeps_the_earlier_checkpoint(
  tmp_path, tfds_dir, vae_smoke
):
  """A disk with room for the checkpoint of step 10 (about 18 MiB) and not for step 20's:
  a real 24 MiB tmpfs where the test can mount one, else TensorStore's ENOSPC error
  raised by the save of step 20."""
  flags = [*QUIET, "--config.train.num_steps=20", "--config.train.checkpoint_every=10"]
  if _can_mount():
    disk, copy = tmp_path / "disk", str(tmp_path / "copy")
    os.makedirs(disk)
    workdir = f"{disk}/w"
    cmd = shlex.join([sys.executable, "-m", "launch.train", *_args(workdir, tfds_dir), *flags])
    result = _in_namespace(
      f"mount -t tmpfs -o size=24m tmpfs {disk} && {cmd}; rc=$?; cp -a {workdir} {copy}; exit $rc"
    )
    message = _one_sentence(result, "no space left on the device", "checkpoint step 20")
    workdir = copy
  else:
    workdir = str(tmp_path / "w")
    result = _fault_worker([*_args(workdir, tfds_dir), *flags], "enospc:20")
    message = _one_sentence(result, "no space left on the device", "20.orbax-checkpoint-tmp")
  assert "step 10 in" in message and "left as they were" in message
  _finite_checkpoint(workdir, vae_smoke, 10)


def test_a_read_only_workdir_is_one_sentence_and_keeps_its_checkpoints(
  tmp_path, tfds_dir, vae_smoke
):
  """A workdir with a checkpoint at step 10, resumed where it cannot be written: a
  read-only bind mount where the test can make one, else EROFS from Python's writes.
  (Permission bits would not do: tests may run as root, which ignores them.)"""
  workdir = str(tmp_path / "w")
  vae_smoke.train.update(num_steps=10, eval_every=0, sample_every=0)
  train_and_evaluate(experiments.build(vae_smoke), vae_smoke, workdir)
  before = sorted(os.listdir(workdir)), sorted(os.listdir(os.path.join(workdir, "checkpoints")))
  args = [*_args(workdir, tfds_dir), *QUIET, "--config.train.num_steps=20"]
  if _can_mount():
    cmd = shlex.join([sys.executable, "-m", "launch.train", *args])
    result = _in_namespace(
      f"mount --bind {workdir} {workdir} && mount -o remount,bind,ro {workdir} && {cmd}"
    )
  else:
    result = _fault_worker(args, "erofs")
  message = _one_sentence(result, f"Cannot write {workdir}: the file system is read-only")
  assert "step 10 in" in message
  after = sorted(os.listdir(workdir)), sorted(os.listdir(os.path.join(workdir, "checkpoints")))
  assert after == before
  _finite_checkpoint(workdir, vae_smoke, 10)


def test_tensorstore_and_python_storage_errors_are_recognised(tmp_path):
  """The texts the conversion relies on: TensorStore's (as measured on a full tmpfs)
  and Python's OSError; anything else is left alone."""
  full = ValueError(
    'RESOURCE_EXHAUSTED: Error writing "params.w/0" in OCDBT database at local file '
    '"/w/checkpoints/20.orbax-checkpoint-tmp/state.orbax-checkpoint-tmp/ocdbt.process_0/": '
    'Failed writing: "/w/checkpoints/20.orbax-checkpoint-tmp/state.orbax-checkpoint-tmp/'
    "ocdbt.process_0/d/99\": Failed to write 3792896 bytes to file 8: No space left on device "
    "[os_error_code='28']"
  )
  assert storage.cause(full) == (
    "/w/checkpoints/20.orbax-checkpoint-tmp",
    "no space left on the device",
  )
  ro = OSError(30, "Read-only file system", "/w/metrics.jsonl")
  assert storage.cause(ro) == ("/w/metrics.jsonl", "the file system is read-only")
  try:
    try:
      raise ro
    except OSError as e:
      raise RuntimeError("wrapped") from e
  except RuntimeError as wrapped:
    assert storage.cause(wrapped)[1] == "the file system is read-only"
  assert storage.cause(OSError(2, "No such file or directory", "/x")) is None
  # Permission is the workdir's fault only inside it: not on a dataset read from elsewhere.
  denied = lambda path: PermissionError(13, "Permission denied", path)
  assert storage.cause(denied("/w/checkpoints/10"), "/w") == (
    "/w/checkpoints/10",
    "permission denied",
  )
  assert storage.cause(denied("/data/digits/1.0.0/x.array_record"), "/w") is None
  assert storage.cause(denied("/data/x"))[1] == "permission denied"  # no workdir given
  storage.reraise(denied("/data/x"), "/w/checkpoints")  # left to raise as it is
  with pytest.raises(StorageError, match="Cannot write /w/metrics.jsonl: permission denied"):
    storage.reraise(denied("/w/metrics.jsonl"), "/w/checkpoints")
  assert storage.cause(ValueError("shapes differ")) is None
  os.makedirs(tmp_path / "checkpoints" / "10")
  message = str(storage.error("/w/x", "no space left on the device", str(tmp_path / "checkpoints")))
  assert message.startswith("Cannot write /w/x: no space left on the device; training stopped")
  assert "(step 10 in" in message
