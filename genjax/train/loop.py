"""The one training loop: every family trains, evaluates, samples and resumes through it."""

import contextlib
import functools
import os
from typing import Callable, Optional

import jax
import numpy as np

from genjax import data as gdata
from genjax import viz
from genjax.errors import ConfigError, GenjaxError, TrainingDiverged
from genjax.eval import evaluators as evaluators_lib
from genjax.train import mesh as mesh_lib
from genjax.train import multihost, preflight, storage
from genjax.train.checkpoint import Checkpointer
from genjax.train.clock import TrainClock
from genjax.train.experiment import Experiment
from genjax.train.writers import MetricWriter, Progress, evaluated, logged


def abstract_state(experiment: Experiment, key, mesh):
  """The state's shapes and dtypes, replicated over the mesh, without allocating it."""
  shapes = jax.eval_shape(experiment.init, key)
  repl = mesh_lib.replicated(mesh)
  return jax.tree.map(lambda s: jax.ShapeDtypeStruct(s.shape, s.dtype, sharding=repl), shapes)


def make_step_fn(experiment: Experiment, mesh, key, steps_per_dispatch: int = 1):
  """The jitted train step: state replicated and donated, batch sharded over `data`,
  and the step's key folded from `key` and the step number inside jit.

  steps_per_dispatch = k > 1: one call runs k steps as a `lax.scan` over k batches
  stacked along a leading axis (metrics come back stacked too), each step with the key
  it would have had alone, so that a small model on a fast accelerator is not bound by
  Python's dispatch of one step at a time. On XLA:CPU the scan is unrolled: inside a
  loop body XLA:CPU leaves a convolution's weight gradient as a convolution over the whole
  map instead of the products it makes of it in a plain program, and the scanned step ran
  3.9 (PixelCNN digits) to 11 (DDPM digits) times slower per step than one step per call;
  unrolled, 0.79-0.86 times (k = 4, benchmarks/step_variants.py, 2 CPU cores), for 1.8-2.4
  times the compile time.

  The same experiment object, mesh, key and k give the same jitted function, whose
  traced and compiled step a later run in this process reuses: a resumed run of that
  experiment skips tracing, lowering and loading the step again (the CycleGAN resume
  test: 17.3 s instead of 22.0 s on one core, compilation cache empty)."""
  bits = tuple(np.asarray(jax.random.key_data(key)).ravel().tolist())
  return _step_fn(experiment, mesh, str(jax.random.key_impl(key)), bits, steps_per_dispatch)


@functools.lru_cache(maxsize=4)
def _step_fn(experiment: Experiment, mesh, impl: str, bits: tuple, k: int):
  key = jax.random.wrap_key_data(np.asarray(bits, np.uint32), impl=impl)
  repl, sharded = mesh_lib.replicated(mesh), mesh_lib.batch_sharded(mesh, stacked=k > 1)
  platform = mesh.devices.flat[0].platform

  def train_step(state, batch, step):
    return experiment.train_step(state, batch, jax.random.fold_in(key, step))

  def k_steps(state, batches, step):
    def body(state, xs):
      batch, i = xs
      return train_step(state, batch, step + i)

    steps = (batches, jax.numpy.arange(k, dtype=step.dtype))
    return jax.lax.scan(body, state, steps, unroll=platform == "cpu")

  return jax.jit(
    k_steps if k > 1 else train_step,
    in_shardings=(repl, sharded, repl),
    out_shardings=(repl, repl),
    donate_argnums=0,
  )


@functools.lru_cache(maxsize=16)
def _replicated_jit(fn, mesh, static_argnums=()):
  """jax.jit(fn) with replicated outputs, one per (fn, mesh), as _step_fn: a later run in
  this process reuses its traces and executables."""
  return jax.jit(fn, static_argnums=static_argnums, out_shardings=mesh_lib.replicated(mesh))


def _next_batch(train_iter, mesh, k: int):
  if k == 1:
    return mesh_lib.global_batch(next(train_iter), mesh)
  local = [next(train_iter) for _ in range(k)]
  stacked = jax.tree.map(lambda *xs: np.stack(xs), *local)
  return mesh_lib.global_batch(stacked, mesh, stacked=True)


def _keys(seed: int):
  root = jax.random.key(seed)
  return dict(zip(("init", "train", "eval", "sample"), jax.random.split(root, 4)))


def restore_latest(experiment: Experiment, config, workdir: str, mesh=None):
  """(step, state) of the newest good checkpoint in workdir, for sampling and figures."""
  mesh = mesh or mesh_lib.make_mesh()
  ckpt = Checkpointer(os.path.join(workdir, "checkpoints"))
  try:
    restored = ckpt.restore(abstract_state(experiment, _keys(config.seed)["init"], mesh))
  finally:
    ckpt.close()
  return restored


def evaluate_checkpoint(
  experiment: Experiment, config, workdir: str, *, feature_net=None, names=None
):
  """(step, metrics) of config.evals (or those `names`) on workdir's newest checkpoint:
  the loop's evaluators, their code path and keys, run on a finished workdir."""
  mesh = mesh_lib.make_mesh()
  restored = restore_latest(experiment, config, workdir, mesh)
  if restored is None:
    raise ConfigError(f"{workdir} holds no checkpoint to evaluate.")
  step, state = restored
  evaluators = evaluators_lib.from_config(
    evaluators_lib.EvalContext(
      experiment=experiment,
      config=config,
      mesh=mesh,
      key=_keys(config.seed)["eval"],
      feature_net=feature_net,
    )
  )
  if names is not None:
    evaluators = [e for e in evaluators if e.name in names]
  return step, evaluators_lib.run_all(evaluators, state)


def _say(message: str) -> None:
  if jax.process_index() == 0:
    print(message, flush=True)


def _write_config(config, workdir: str, step: int) -> None:
  """config.json records the run; a resume with a changed config is recorded beside it."""
  text = config.to_json_best_effort(indent=2, sort_keys=True)
  path = os.path.join(workdir, "config.json")
  if os.path.exists(path):
    with open(path, encoding="utf-8") as f:
      if f.read() == text:
        return
    path = os.path.join(workdir, f"config.resumed_at_{step}.json")
  with open(path, "w", encoding="utf-8") as f:
    f.write(text)


def _check_finite(step: int, metrics: dict, ckpt: Checkpointer) -> None:
  bad = {k: v for k, v in metrics.items() if not np.isfinite(v)}
  if bad:
    k, v = next(iter(bad.items()))
    last = ckpt.latest_step()
    kept = (
      f"the last good checkpoint (step {last}) is kept in {ckpt.directory}"
      if last is not None
      else "no checkpoint had been written yet"
    )
    raise TrainingDiverged(
      f"{k} became {v} by step {step}, so training stopped; {kept}. Lower "
      f"optim.learning_rate or set optim.grad_clip_norm."
    )


def train_and_evaluate(
  experiment: Experiment,
  config,
  workdir: str,
  *,
  feature_net=None,
  should_stop: Optional[Callable[[int], bool]] = None,
) -> dict:
  """Trains `experiment` to config.train.num_steps, or until it has trained for
  config.train.time_budget_s seconds (> 0; summed over resumes, see clock.py), resuming
  from workdir if it can.

  `should_stop(step)` lets a caller (a SIGTERM handler, a test) end the run early; the
  state is checkpointed first, so rerunning the same command continues exactly. In a
  multi-process run a stop requested on any process stops every process at the same step,
  the next multiple of train.log_every, and a `should_stop` with a `stopped_at(step)`
  method is told so on every process. Returns the last evaluation's metrics.

  A step's checkpoint is saved before its evaluations and samples; a resumed run makes
  those of its checkpoint's step that metrics.jsonl and samples/ lack (a kill while they
  ran), before training on.

  A workdir that cannot be written (a full disk, a read-only file system) ends the run
  with a StorageError naming the path and the cause; earlier checkpoints are kept.
  """
  try:
    return _train_and_evaluate(
      experiment, config, workdir, feature_net=feature_net, should_stop=should_stop
    )
  except GenjaxError:
    raise
  except Exception as e:  # pylint: disable=broad-except
    storage.reraise(e, os.path.join(os.path.abspath(workdir), "checkpoints"))
    raise


def _train_and_evaluate(experiment, config, workdir, *, feature_net, should_stop) -> dict:
  tc = config.train
  preflight.check(config, experiment)  # before any dataset, directory or parameter
  mesh = mesh_lib.make_mesh()
  mesh_lib.check_batch_size(config.data.batch_size, mesh)
  mesh_lib.check_batch_size(config.data.eval_batch_size, mesh, "data.eval_batch_size")
  lead = jax.process_index() == 0
  ckpt_dir = os.path.join(workdir, "checkpoints")
  multihost.on_every_process(
    lambda: storage.check_writable(workdir, os.path.abspath(ckpt_dir)) if lead else None,
    "checking that the workdir can be written",
  )
  keys = _keys(config.seed)

  train_iter = gdata.make_train_iterator(
    config.data,
    seed=config.seed,
    process_index=jax.process_index(),
    process_count=jax.process_count(),
  )
  ckpt = Checkpointer(ckpt_dir, max_to_keep=tc.keep_checkpoints)
  restored = ckpt.restore(abstract_state(experiment, keys["init"], mesh), train_iter)
  if restored is None:
    step = 0
    state = _replicated_jit(experiment.init, mesh)(keys["init"])
  else:
    step, state = restored
    _say(f"Resuming {workdir} from step {step}.")
  first_step = step
  if lead:
    _write_config(config, workdir, step)
  clock = TrainClock(workdir, step, enabled=lead)
  budget = float(tc.get("time_budget_s", 0.0))
  spent = budget > 0 and clock.recorded >= budget  # by the runs this one resumes

  per_call = int(tc.get("steps_per_dispatch", 1))
  step_fns = {per_call: make_step_fn(experiment, mesh, keys["train"], per_call)}
  evaluators = evaluators_lib.from_config(
    evaluators_lib.EvalContext(
      experiment=experiment, config=config, mesh=mesh, key=keys["eval"], feature_net=feature_net
    )
  )
  sample_fn = _replicated_jit(experiment.sample, mesh, 2) if experiment.sample else None
  # XLA:CPU's collectives deadlock when emulated devices outnumber cores unless every
  # step is waited on (8 emulated devices on 2 cores: a rendezvous timeout, SIGABRT
  # after about 60 s, on jax 0.10.2).
  block_each_step = jax.default_backend() == "cpu" and jax.local_device_count() > (
    os.cpu_count() or 1
  )

  # A resumed run rewrites what the interrupted one logged after this checkpoint, so
  # every step's metrics are in the record exactly once.
  writer = MetricWriter(workdir, enabled=lead, resume_step=step)
  progress = Progress(
    step,
    tc.num_steps,
    enabled=lead,
    seconds_left=(lambda: budget - clock.seconds()) if budget > 0 else None,
  )
  pending: list = []
  last_eval: dict = {}
  # Evaluators on a cadence of training seconds, and the seconds at the last log step
  # (all processes' largest, so that they all decide alike).
  timed = [e for e in evaluators if e.every_s > 0]
  checked_s = clock.recorded

  def flush(step):
    """Fetches the metrics of the steps since the last flush; stops on NaN/Inf."""
    if not pending:
      return {}
    host = jax.device_get(pending)
    pending.clear()
    # per step: k steps per call give each metric stacked [k]
    means = {
      name: float(np.mean(np.concatenate([np.ravel(m[name]) for m in host]))) for name in host[0]
    }
    _check_finite(step, means, ckpt)
    return means

  def save(step):
    # The steps since the last log line are logged now (never dropped), and a state
    # that has already diverged is never checkpointed.
    with clock.excluding():
      means = flush(step)
      if means:
        writer.scalars(step, means)
      nbytes = sum(getattr(x, "nbytes", 0) for x in jax.tree.leaves(state))
      multihost.on_every_process(
        lambda: storage.check_space(ckpt.directory, step, nbytes), "checking the disk's space"
      )
      ckpt.save(step, state, train_iter)
    clock.record(step)

  def evaluate(step, due) -> dict:
    with clock.excluding():
      results = evaluators_lib.run_all(due, state)
      writer.scalars(step, results)
      progress.print(step, results, timing=False)
    progress.restart_clock(step)
    return results

  def sampling_due(step) -> bool:
    every = tc.sample_every
    return bool(sample_fn is not None and every and (step % every == 0 or step == tc.num_steps))

  def draw_samples(step):
    with clock.excluding():
      images = np.asarray(
        sample_fn(state, jax.random.fold_in(keys["sample"], step), config.sample.num)
      )
      if lead:
        viz.save_samples(os.path.join(workdir, "samples"), step, images)
        writer.image(step, "samples", viz.make_grid(viz.to_unit(images)))
    progress.restart_clock(step)

  def make_missed(step, due) -> None:
    """Makes the evaluations `due` at `step` and its samples where the record lacks them.
    A step's checkpoint is saved before they run, so a kill while they ran (a scheduler's
    grace period ending) left them out; the rerun makes them from that checkpoint, before
    training on, and the record is a straight run's."""
    missed_eval, missed_samples = multihost.any_process(  # process 0 holds the record
      lead and bool(due) and not evaluated(workdir, step),
      lead
      and sampling_due(step)
      and not os.path.exists(viz.samples_path(os.path.join(workdir, "samples"), step)),
    )
    if missed_eval or missed_samples:
      _say(f"Making what the last run did not finish at step {step}: its evaluation or samples.")
    if missed_eval:
      evaluate(step, due)
    if missed_samples:
      draw_samples(step)

  compiled: set = set()  # the step functions called so far (their first call compiles)
  try:
    if step >= tc.num_steps:
      _say(f"{workdir} is already trained to step {step}; nothing to train.")
    elif spent:
      _say(f"{workdir} has trained for its budget of {budget:g} s; nothing to train.")
    elif restored is not None:
      make_missed(
        step, [e for e in evaluators if evaluators_lib.is_due(e, step, tc.num_steps, tc.eval_every)]
      )
    while step < tc.num_steps and not spent:
      # A checkpoint off the dispatch grid (saved by a run with another k, at a stop or a
      # budget) is stepped one at a time up to the grid: the same batches and keys.
      k = per_call if step % per_call == 0 else 1
      if k not in step_fns:
        step_fns[k] = make_step_fn(experiment, mesh, keys["train"], k)
      batch = _next_batch(train_iter, mesh, k)
      first = k not in compiled
      with clock.excluding() if first else contextlib.nullcontext():  # XLA compiling the step
        state, metrics = step_fns[k](state, batch, np.int32(step))
        if first:
          jax.block_until_ready(metrics)
      compiled.add(k)
      step += k
      pending.append(metrics)
      if block_each_step:
        jax.block_until_ready(state)
      at_log = step % tc.log_every == 0 or step == tc.num_steps
      stop = should_stop is not None and should_stop(step)
      if jax.process_count() > 1:  # decided together, at steps every process checks
        stop = at_log and multihost.any_process(stop)[0]
      due_by_time = set()  # names
      if at_log:
        means = flush(step)
        means["train/steps_per_sec"] = progress.steps_per_second(step)
        # Checked where the step's results have been fetched, so the time is the work's;
        # every process has the same budget and evaluators, so all of them skip or join
        # the collective.
        seconds = clock.seconds()
        if budget > 0 or timed:
          seconds = multihost.max_over_processes(seconds)
          spent = budget > 0 and seconds >= budget
        means["train/seconds"] = seconds  # what a time cadence or the budget is read on
        writer.scalars(step, means)
        progress.print(step, means)
        progress.restart_clock(step)
        last = spent or step >= tc.num_steps
        due_by_time = {
          e.name for e in timed if evaluators_lib.is_due_by_time(e, seconds, checked_s, last)
        }
        checked_s = seconds
      due = [
        e
        for e in evaluators
        if e.name in due_by_time or evaluators_lib.is_due(e, step, tc.num_steps, tc.eval_every)
      ]
      # Saved, and the save committed, before evaluating or sampling, which can take
      # minutes: a kill while they run (a scheduler's grace period ending) loses no
      # training. (Without the wait, the save would still be writing in the background.)
      saved = step % tc.checkpoint_every == 0 or step == tc.num_steps or stop or spent
      sampling = sampling_due(step)
      if saved:
        save(step)
        if due or sampling:
          with clock.excluding():
            ckpt.wait()
      if spent:
        _say(f"Trained for the budget of {budget:g} s at step {step}; checkpoint saved.")
      if due:
        last_eval = evaluate(step, due)
      if sampling:
        draw_samples(step)
      if (due or sampling) and not stop and should_stop is not None:
        # A stop asked for while evaluating or sampling ends the run at this step rather
        # than a step later (several processes: at the next log step); every process ran
        # the same evaluators and sampler, so all of them reach this check.
        stop = should_stop(step)
        if jax.process_count() > 1:
          stop = multihost.any_process(stop)[0]
        if stop and not saved:
          save(step)
      if stop:
        _say(f"Stopped at step {step} on request; checkpoint saved in {ckpt.directory}.")
        if hasattr(should_stop, "stopped_at"):
          should_stop.stopped_at(step)
        break
    # The final evaluation, where this run made none: a rerun of a finished workdir, or of
    # one whose final evaluation a kill cut short.
    if not last_eval and (step >= tc.num_steps or spent) and tc.eval_every:
      last_eval = evaluators_lib.run_all([e for e in evaluators if e.every >= 0], state)
      if not logged(workdir, step, last_eval):
        writer.scalars(step, last_eval)
    if restored is not None and step == first_step and step >= tc.num_steps:
      make_missed(step, [])  # the final samples, where a kill cut them short
  finally:
    ckpt.close()
    writer.close()
  return last_eval
