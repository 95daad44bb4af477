"""The entry points as a user runs them: train, resume, sample, figures, errors, devices."""

import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from tests.conftest import REPO, assert_same_state, run_launch, xla_flags_with

CONFIG = "experiments/configs/vae_digits.py:smoke"


def _train(workdir, tfds_dir, *extra, devices=1):
  return run_launch(
    "train",
    f"--config={CONFIG}",
    f"--workdir={workdir}",
    f"--config.data.data_dir={tfds_dir}",
    *extra,
    devices=devices,
  )


# The tests of one trained workdir share it on one xdist worker (setup.cfg's --dist
# loadgroup): spread over both, each worker trained it again (18-20 s each).
_SHARES_TRAINED = pytest.mark.xdist_group("launch_trained")


@pytest.fixture(scope="module")
def trained(tmp_path_factory, tfds_dir):
  workdir = str(tmp_path_factory.mktemp("main") / "vae")
  result = _train(workdir, tfds_dir)
  assert result.returncode == 0, result.stderr[-3000:]
  return workdir, result


@_SHARES_TRAINED
def test_main_job_trains_evaluates_and_writes_figures(trained):
  workdir, result = trained
  assert "step 20/20" in result.stdout
  assert "eval/fd_digits" in result.stdout and "eval/iw_nll" in result.stdout
  figures = set(os.listdir(os.path.join(workdir, "figures")))
  assert {
    "manifold.png",
    "samples_prior.png",
    "reconstructions.png",
    "interpolation.png",
    "lower_bound.png",
  } <= figures
  assert os.path.exists(os.path.join(workdir, "checkpoints", "20"))


@_SHARES_TRAINED
def test_tensorboard_reads_the_event_files(trained):
  from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

  acc = EventAccumulator(os.path.join(trained[0], "tensorboard"))
  acc.Reload()
  tags = acc.Tags()
  assert "train/loss" in tags["scalars"] and "eval/elbo" in tags["scalars"]
  assert [e.step for e in acc.Scalars("train/loss")] == [5, 10, 15, 20]
  assert "samples" in tags["images"]


@_SHARES_TRAINED
def test_rerunning_the_command_resumes_instead_of_starting_over(trained, tfds_dir):
  workdir, _ = trained
  result = _train(workdir, tfds_dir, "--config.train.num_steps=25", "--figures=false")
  assert result.returncode == 0, result.stderr[-3000:]
  assert "Resuming" in result.stdout and "from step 20" in result.stdout
  assert "step 5/" not in result.stdout and "step 25/25" in result.stdout
  assert os.path.exists(os.path.join(workdir, "config.resumed_at_20.json"))


@_SHARES_TRAINED
def test_sample_writes_a_grid_from_the_latest_checkpoint(trained, tmp_path):
  out = str(tmp_path / "grid.png")
  result = run_launch("sample", f"--workdir={trained[0]}", "--num=9", f"--out={out}")
  assert result.returncode == 0, result.stderr[-3000:]
  images = np.load(str(tmp_path / "grid.npz"))["images"]
  assert images.shape == (9, 28, 28, 1) and 0.0 <= images.min() and images.max() <= 1.0
  assert os.path.getsize(out) > 0


# DCGAN with BatchNorm in G and D, whose batch statistics are taken over the global
# batch: the same on a mesh of one process or of several. Its stabilisers are off (D's
# BatchNorm goes with spectral norm; R1, DiffAugment and ADA would only add compile time).
DCGAN_BN = "experiments/configs/dcgan_digits.py:smoke"
DCGAN_BN_FLAGS = [
  "--config.model.d_batch_norm=True",
  "--config.model.d_spectral_norm=False",
  "--config.objective.r1_gamma=0.0",
  "--config.objective.augment=",
  "--config.objective.ada_target=0.0",
]


@pytest.mark.parametrize("config", [CONFIG, DCGAN_BN], ids=["vae", "dcgan_batchnorm"])
def test_two_processes_and_two_devices_give_the_parameters_of_one(config, tfds_dir, tmp_path):
  """The same global batch of 32 on 2 processes (one device each, gloo collectives) and
  on 1 process with 2 devices: the same state, BatchNorm statistics included (batch
  statistics of one process's half would differ from the global batch's by far more
  than the tolerance). Each process reads its half of every global batch, and a sum over
  the mesh adds the same two per-device partial sums in either case. Not bitwise: XLA:CPU
  compiles the same HLO for both but splits some elementwise loops over threads
  (outer_dimension_partitions) in one and not the other, and the split loop's vectorised
  exp rounds a few elements 1 ulp differently (seen: 12 of the VAE's elements,
  1e-10 apart after 10 steps; some runs were bitwise equal).

  Against 1 process with 1 device (VAE): the same within rounding, since one device sums
  all 32 examples in one reduction and two devices sum two halves then add them. Small
  SGD steps keep every difference at the gradients' rounding (a large one is chaotic on
  these losses: 1e-7 differences grow to 100 nats); under Adam a rounding difference in a
  near-zero gradient is normalised up to a full step."""
  args = [
    f"--config={config}",
    f"--config.data.data_dir={tfds_dir}",
    "--figures=false",
    "--config.train.num_steps=10",
    "--config.train.eval_every=0",
    "--config.train.sample_every=0",
    "--config.eval.fd_num_samples=0",
  ]
  args += ["--config.optim.name=sgd", "--config.optim.learning_rate=1e-4"]
  if config == DCGAN_BN:
    args += ["--config.optim_disc.name=sgd", "--config.optim_disc.learning_rate=1e-4"]
    args += DCGAN_BN_FLAGS
  w = {k: str(tmp_path / k) for k in ("dev1", "dev2", "proc2")}
  runs = [run_launch("train", *args, f"--workdir={w['dev2']}", devices=2)]
  runs.append(run_launch("local", "--num_processes=2", "--", *args, f"--workdir={w['proc2']}"))
  if config == CONFIG:
    runs.append(run_launch("train", *args, f"--workdir={w['dev1']}"))
  for run in runs:
    assert run.returncode == 0, run.stderr[-3000:]
  import experiments
  from launch.common import load_workdir_config

  c = load_workdir_config(w["dev2"])
  experiment = experiments.build(c)
  state = assert_same_state(experiment, c, w["dev2"], w["proc2"], atol=1e-7, rtol=1e-5)
  if config == DCGAN_BN:  # the BatchNorm statistics of G and D were compared too
    assert all("batch_stats" in state[net].model_state for net in ("gen", "disc"))
  else:
    assert_same_state(experiment, c, w["dev1"], w["dev2"], atol=1e-5, rtol=1e-4)


@pytest.mark.parametrize(
  "override, message",
  [
    ("--config.optim.learning_rat=0.1", "learning_rat"),
    ("--config.train.num_steps=many", "num_steps"),
    ("--config.objective.likelihood=poisson", "objective.likelihood must be one of"),
  ],
)
def test_bad_config_is_one_clear_error(override, message, tmp_path, tfds_dir):
  result = _train(str(tmp_path / "bad"), tfds_dir, override)
  assert result.returncode != 0
  assert message in result.stderr
  assert "Traceback" not in result.stderr


def test_missing_dataset_is_one_clear_error(tmp_path):
  start = time.time()
  result = run_launch(
    "train",
    f"--config={CONFIG}",
    f"--workdir={tmp_path / 'w'}",
    "--config.data.name=mnist",
    f"--config.data.data_dir={tmp_path / 'empty'}",
  )
  assert time.time() - start < 60
  assert result.returncode == 2
  assert "Traceback" not in result.stderr
  assert "mnist" in result.stderr and "not prepared" in result.stderr
  assert not os.path.exists(tmp_path / "w" / "checkpoints")


def test_sigterm_saves_a_checkpoint_and_the_run_resumes(tmp_path, tfds_dir):
  workdir = str(tmp_path / "term")
  env = dict(os.environ, XLA_FLAGS=xla_flags_with(1), PYTHONUNBUFFERED="1")
  cmd = [
    sys.executable,
    "-m",
    "launch.train",
    f"--config={CONFIG}",
    f"--workdir={workdir}",
    f"--config.data.data_dir={tfds_dir}",
    "--config.train.num_steps=100000",
    "--config.train.eval_every=0",
    "--config.train.sample_every=0",
    "--config.train.checkpoint_every=100000",
    "--config.eval.fd_num_samples=0",
  ]
  proc = subprocess.Popen(
    cmd, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
  )
  for line in proc.stdout:
    if line.startswith("step 10/"):
      break
  proc.send_signal(signal.SIGTERM)
  out, err = proc.communicate(timeout=120)
  assert proc.returncode == 128 + signal.SIGTERM, err[-3000:]
  assert "Stopped by SIGTERM" in out
  steps = [int(s) for s in os.listdir(os.path.join(workdir, "checkpoints")) if s.isdigit()]
  assert len(steps) == 1 and 10 <= steps[0] < 100000
  result = run_launch(
    "train",
    *cmd[3:6],
    "--config.train.num_steps=" + str(steps[0] + 5),
    "--config.train.eval_every=0",
    "--config.eval.fd_num_samples=0",
    "--figures=false",
  )
  assert result.returncode == 0, result.stderr[-3000:]
  assert f"from step {steps[0]}" in result.stdout


def _two_processes(workdir, tfds_dir, *extra, per_process=((), ())):
  """Runs launch.train as two JAX processes on 127.0.0.1 (gloo collectives)."""
  procs = _start_two(workdir, tfds_dir, *extra, per_process=per_process)
  outs = [p.communicate(timeout=300) for p in procs]
  return [(p.returncode, out, err) for p, (out, err) in zip(procs, outs)]


def _start_two(workdir, tfds_dir, *extra, per_process=((), ())):
  import socket

  with socket.socket() as s:
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
  env = dict(os.environ, XLA_FLAGS=xla_flags_with(1), PYTHONUNBUFFERED="1")
  procs = [
    subprocess.Popen(
      [
        sys.executable,
        "-m",
        "launch.train",
        f"--config={CONFIG}",
        f"--workdir={workdir}",
        f"--config.data.data_dir={tfds_dir}",
        "--config.parallel.num_processes=2",
        f"--config.parallel.coordinator_address=127.0.0.1:{port}",
        f"--config.parallel.process_id={i}",
        *extra,
        *per_process[i],
      ],
      cwd=REPO,
      env=env,
      stdout=subprocess.PIPE,
      stderr=subprocess.PIPE,
      text=True,
    )
    for i in range(2)
  ]
  return procs


# The preemption tests' runs draw no samples or figures, and with _QUIET evaluate nothing.
_NO_SAMPLES = ("--config.train.sample_every=0", "--config.eval.fd_num_samples=0", "--figures=false")
_QUIET = ("--config.train.eval_every=0", *_NO_SAMPLES)


def _preempt_one_of_two(workdir, tfds_dir, after_line: str, *extra) -> list:
  """Starts two processes that would train for ever, sends SIGTERM to process 1 alone once
  process 0 prints a line starting `after_line`, and checks that both exited as
  preempted; returns their (stdout, stderr)."""
  procs = _start_two(
    workdir,
    tfds_dir,
    *extra,
    *_NO_SAMPLES,
    "--config.train.num_steps=100000",
    "--config.train.checkpoint_every=100000",
  )
  for line in procs[0].stdout:
    if line.startswith(after_line):
      break
  procs[1].send_signal(signal.SIGTERM)
  outs = [p.communicate(timeout=120) for p in procs]
  assert [p.returncode for p in procs] == [128 + signal.SIGTERM] * 2, outs[0][1][-2000:]
  assert all("Stopped by SIGTERM" in out for out, _ in outs)
  return outs


def test_sigterm_to_one_process_stops_both_at_the_same_step_and_they_resume(tmp_path, tfds_dir):
  """Preemption of one host: process 1 alone gets SIGTERM; both save one checkpoint at the
  same step (the next log step, decided together) and exit 143; the rerun resumes it."""
  workdir = str(tmp_path / "preempt")
  _preempt_one_of_two(workdir, tfds_dir, "step 10/", "--config.train.eval_every=0")
  steps = [int(s) for s in os.listdir(os.path.join(workdir, "checkpoints")) if s.isdigit()]
  assert len(steps) == 1 and 10 < steps[0] < 100000 and steps[0] % 5 == 0  # a log step
  runs = _two_processes(workdir, tfds_dir, *_QUIET, f"--config.train.num_steps={steps[0] + 5}")
  assert [code for code, _, _ in runs] == [0, 0], runs[0][2][-2000:]
  assert f"from step {steps[0]}" in runs[0][1]


def test_sigterm_during_an_evaluation_stops_both_processes_at_its_step(tmp_path, tfds_dir):
  """A SIGTERM that reaches one process between log steps (every 5) is acted on after the
  next evaluation (every 7), decided together there: both save step 7 and exit 143
  instead of training on to the log step 10."""
  workdir = str(tmp_path / "preempt_eval")
  _preempt_one_of_two(workdir, tfds_dir, "step 5/", "--config.train.eval_every=7")
  assert os.listdir(os.path.join(workdir, "checkpoints")) == ["7"]


def test_two_processes_train_evaluate_and_draw_with_the_default_config(tmp_path, tfds_dir):
  """The default evaluation (Fréchet distance on the feature net, which the two processes
  train together when it is missing), sampling and figures, each process reading its half
  of the data; then a feature net that one process cannot read stops both with the same
  sentence instead of leaving the other in a collective until gloo times out."""
  workdir = str(tmp_path / "mp")
  run = run_launch(
    "local",
    "--num_processes=2",
    "--",
    f"--config={CONFIG}",
    f"--workdir={workdir}",
    f"--config.data.data_dir={tfds_dir}",
  )
  assert run.returncode == 0, run.stderr[-3000:]
  lines = run.stdout.splitlines()
  finals = [
    next(line for line in lines if line.startswith(f"[{i}] Final evaluation"))[4:] for i in range(2)
  ]
  assert "eval/fd_digits" in finals[0]
  assert finals[0] == finals[1]  # one global computation, seen identically by both
  assert any(line.startswith("[0] step 20/20") for line in lines)
  assert not any(line.startswith("[1] step") for line in lines)  # only process 0 logs
  assert os.path.exists(os.path.join(workdir, "checkpoints", "20"))
  assert "samples_prior.png" in os.listdir(os.path.join(workdir, "figures"))
  assert os.path.exists(os.path.join(workdir, "samples", "step_0000020.png"))

  missing = str(tmp_path / "no_feature_net")
  runs = _two_processes(
    workdir,
    tfds_dir,
    "--figures=false",
    per_process=((), (f"--config.eval.feature_net_dir={missing}",)),
  )
  errors = [err.strip().splitlines()[-1] for _, _, err in runs]
  assert [code for code, _, _ in runs] == [2, 2], errors
  assert errors[0] == errors[1] and errors[0].startswith("error: No trained feature network")
  assert missing in errors[0]
  assert not any("Traceback" in err for _, _, err in runs)


def test_local_launcher_stops_every_process_when_one_fails():
  start = time.monotonic()
  run = run_launch(
    "local",
    "--num_processes=2",
    "--module=tests.local_worker",
    "--grace_s=5",
    "--",
    "--flag=1",
    timeout=120,
  )
  assert run.returncode == 3  # the failed process's status, not a hang
  assert time.monotonic() - start < 60
  assert "[1] worker 1 fails" in run.stderr
  assert "[0] worker 0 of 2 started" in run.stdout
