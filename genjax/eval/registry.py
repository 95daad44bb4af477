"""The evaluator registry: `config.evals` entries -> evaluators, and when each is due.

  config.evals.<name> = dict(type=<a registered type>, every=<steps>, ...its options)

`every` > 0 runs it every that many training steps and at the last one; 0 on the run's
`train.eval_every` cadence; < 0 never during training, only when a finished workdir is
evaluated (launch.reproduce, launch.compare).

`every_s` > 0 (with `every` 0 or left out) runs it on a cadence of training seconds
instead, as genjax/train/clock.py counts them (not compilation, evaluation or saves): at
the first log step at or after each multiple of every_s, and at the run's last step (its
num_steps, or the step its time budget ran out), whatever train.eval_every is. Families
that train at different steps/s are so evaluated at the same training seconds. A resumed
run counts the multiples before the step it resumes from as done.
"""

import dataclasses
import math
from typing import Any, Callable

import jax

from genjax.errors import ConfigError


@dataclasses.dataclass(frozen=True)
class EvalContext:
  """What evaluators are built from: the family's pure functions and the run's setting."""

  experiment: Any  # genjax.train.experiment.Experiment
  config: Any
  mesh: Any
  key: jax.Array
  feature_net: Any = None  # genjax.eval.feature_net.FeatureNet, resolved by the entry point


@dataclasses.dataclass(frozen=True)
class Evaluator:
  name: str
  type: str
  every: int
  run: Callable[[Any], dict]  # state -> {"eval/...": float}
  every_s: float = 0.0  # > 0: a cadence of training seconds instead of steps


_TYPES: dict = {}


def register(type_name: str):
  """Registers `factory(entry, ctx) -> run(state) | None` under `type_name`."""

  def wrap(factory):
    _TYPES[type_name] = factory
    return factory

  return wrap


def types() -> tuple:
  return tuple(sorted(_TYPES))


def from_config(ctx: EvalContext) -> list[Evaluator]:
  """The run's evaluators; an unknown type is a ConfigError."""
  entries = dict(ctx.config.get("evals", {}).items())
  for name, entry in entries.items():  # every entry checked before any is built
    kind = entry.get("type", name)
    if kind not in _TYPES:
      raise ConfigError(f"evals.{name}.type must be one of {types()}, not {kind!r}.")
  built = []
  for name, entry in entries.items():
    kind = entry.get("type", name)
    run = _TYPES[kind](entry, ctx)
    if run is not None:
      built.append(
        Evaluator(
          name=name,
          type=kind,
          every=int(entry.get("every", 0)),
          run=run,
          every_s=float(entry.get("every_s", 0.0)),
        )
      )
  return built


def is_due(evaluator: Evaluator, step: int, num_steps: int, eval_every: int) -> bool:
  """Whether the loop runs `evaluator` after training step `step` (on a step cadence;
  an evaluator on a time cadence is never due here, see is_due_by_time)."""
  if evaluator.every_s > 0 or not eval_every or evaluator.every < 0:
    return False
  every = evaluator.every or eval_every
  return step % every == 0 or step == num_steps


def is_due_by_time(evaluator: Evaluator, seconds: float, previous: float, last: bool) -> bool:
  """Whether the loop runs `evaluator` at a log step reached after `seconds` of training,
  the previous log step (or the resumed checkpoint) having been at `previous` seconds:
  a multiple of evaluator.every_s was passed in between, or `last` is the run's last step.
  In a multi-process run both times are the ones every process agreed on."""
  if evaluator.every_s <= 0:
    return False
  return last or math.floor(seconds / evaluator.every_s) > math.floor(previous / evaluator.every_s)


def run_all(evaluators, state) -> dict:
  metrics = {}
  for ev in evaluators:
    metrics.update(ev.run(state))
  return metrics
