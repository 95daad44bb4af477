"""Evaluators: every metric genjax reports, each built from one entry of `config.evals`.

  config.evals.<name> = dict(type=<a registered type>, every=<steps>, ...its options)

`every` > 0 runs it every that many training steps and at the last one; 0 on the run's
`train.eval_every` cadence; < 0 never during training, only when a finished workdir is
evaluated (launch.reproduce, launch.compare). The loop and those entry points build the
evaluators with the same `from_config` and call the same `run(state)`, so a number in a
table and the number in metrics.jsonl come from one code path.

An evaluator that cannot apply to a run (sample quality without a feature network, or
for a family that does not sample) is left out, not failed.
"""

# Importing the two modules registers their evaluator types; nothing else names them.
from genjax.eval import model_evaluators, sample_evaluators  # noqa: F401
from genjax.eval.model_evaluators import in_chunks, translation_errors
from genjax.eval.registry import (
  _TYPES,
  EvalContext,
  Evaluator,
  from_config,
  is_due,
  is_due_by_time,
  register,
  run_all,
  types,
)
from genjax.eval.sample_evaluators import (
  SWEEP_PREFIX,
  SampleQuality,
  check_parzen_held_out,
  class_accuracy,
  class_coverage,
  edge_energy,
  labelled_reference,
  parzen_estimate,
  reference_images,
  sample_quality_for,
  sampler,
)

__all__ = [
  "EvalContext",
  "Evaluator",
  "SWEEP_PREFIX",
  "SampleQuality",
  "_TYPES",
  "check_parzen_held_out",
  "class_accuracy",
  "class_coverage",
  "edge_energy",
  "from_config",
  "in_chunks",
  "is_due",
  "is_due_by_time",
  "labelled_reference",
  "parzen_estimate",
  "reference_images",
  "register",
  "run_all",
  "sample_quality_for",
  "sampler",
  "translation_errors",
  "types",
]
