"""The shared base of every config: fixed sections, each family changes only what differs.

Sections: data, model, objective, optim, train, sample, eval, parallel. Every field has
a default of its final type, so `--config.a.b=value` is type-checked and an unknown
field is an error (configs are locked when loaded).
"""

from collections.abc import Mapping

import ml_collections


def get_base_config() -> ml_collections.ConfigDict:
  c = ml_collections.ConfigDict()
  c.family = ""  # experiments.<family> builds the Experiment
  c.seed = 0

  c.data = ml_collections.ConfigDict(
    dict(
      name="digits/28x28",  # any TFDS catalog name (with /config), or our embedded digits
      train_split="train",  # the split training reads (e.g. "train[:50000]" to hold out the rest)
      data_dir="",  # "" = TFDS's default (~/tensorflow_datasets or $TFDS_DATA_DIR)
      batch_size=128,  # global, over all devices and processes
      eval_batch_size=100,
      binarize="none",  # none | threshold | dynamic (each pixel ~ Bernoulli(intensity))
      image_size=0,  # 0 keeps the dataset's size; else centre-crop and resize square
      download=False,  # let TFDS download and prepare a missing catalog dataset
      # Two unpaired domains (CycleGAN): their train splits, e.g. ("trainA", "trainB");
      # batches are then {"image_a", "image_b"}; () = one domain, {"image", "label"}.
      domains=(),
    )
  )
  c.model = ml_collections.ConfigDict()
  c.objective = ml_collections.ConfigDict()
  c.optim = ml_collections.ConfigDict(
    dict(
      name="adam",  # adam | adamw | adagrad | sgd | rmsprop
      learning_rate=1e-3,
      schedule="constant",  # constant | cosine | linear | constant_then_linear
      warmup_steps=0,
      grad_clip_norm=0.0,  # 0 disables clipping
      weight_decay=0.0,  # adamw only
      b1=0.9,
      b2=0.999,
      eps=1e-8,
      momentum=0.0,
      initial_accumulator_value=0.1,  # adagrad
    )
  )
  c.train = ml_collections.ConfigDict(
    dict(
      num_steps=5000,
      log_every=100,
      eval_every=1000,  # 0 disables periodic evaluation
      sample_every=1000,  # 0 disables periodic sample grids
      checkpoint_every=1000,
      keep_checkpoints=3,
      ema_decay=0.999,  # EMA of parameters, used for evaluation and sampling
      # decay min(ema_decay, (1 + t) / (10 + t)) at update t: an EMA worth reading early
      ema_warmup=False,
      compute_dtype="float32",  # or bfloat16 (parameters stay float32)
      # > 0: stop once the run has trained this many seconds (summed over resumes; not
      # counting compilation, evaluation, sampling or saves), even before num_steps
      time_budget_s=0.0,
      # k > 1: k training steps per jitted call (a lax.scan over k batches), same result;
      # every cadence above must be a multiple of k
      steps_per_dispatch=1,
    )
  )
  c.sample = ml_collections.ConfigDict(dict(num=64, batch_size=500))
  c.eval = ml_collections.ConfigDict(
    dict(
      split="test",
      fd_num_samples=300,  # samples for the Fréchet distance; 0 disables it
      # config (file:arg) under experiments/configs that trains the feature network
      feature_net="classifier_digits",
      feature_net_dir="",  # "" = <data_dir>/genjax_feature_nets/<feature_net>
    )
  )
  # The metrics, each an evaluator of genjax/eval/evaluators.py. `every`: 0 = on
  # train.eval_every, N > 0 = every N steps, < 0 = only on a finished workdir
  # (launch.reproduce, launch.compare). Or `every_s` > 0 (with `every` 0): every that many
  # seconds of training (genjax/train/clock.py) and at the end; see genjax/eval/registry.py.
  c.evals = ml_collections.ConfigDict(
    dict(
      # the family's eval_step over eval.split (ELBO, NLL and bits/dim, bounds, ...)
      split_means=dict(type="split_means", every=0),
      # Fréchet distance, precision/recall (k = 3), classes covered, each with its
      # real-vs-real floor, on eval.fd_num_samples samples and the feature network
      sample_quality=dict(type="sample_quality", every=0, k=3),
      # images/s at a fixed batch and network evaluations per image
      sampling_speed=dict(type="sampling_speed", every=-1, batch=100, repeats=3),
      # how often the classifier names the class a class-conditional sample was drawn
      # for, beside its accuracy on real test images (left out for unconditional models)
      class_accuracy=dict(type="class_accuracy", every=0, num_per_class=10),
    )
  )
  c.parallel = ml_collections.ConfigDict(
    dict(
      # Multi-process runs: "" and 1 mean single-process. On SLURM or Cloud TPU set
      # auto_detect=True and JAX reads the cluster's environment.
      coordinator_address="",
      num_processes=1,
      process_id=0,
      auto_detect=False,
    )
  )
  return c


def smoke(c: ml_collections.ConfigDict) -> ml_collections.ConfigDict:
  """Shrinks any config to seconds on a CPU: a few steps of everything."""
  c.data.batch_size = 32
  c.data.eval_batch_size = 100
  c.train.num_steps = 20
  c.train.log_every = 5
  c.train.eval_every = 20
  c.train.sample_every = 20
  c.train.checkpoint_every = 10
  c.train.steps_per_dispatch = 1  # the cadences above need not be multiples of a config's k
  c.sample.num = 16
  c.eval.fd_num_samples = 100
  if c.eval.feature_net and ":" not in c.eval.feature_net:
    c.eval.feature_net += ":smoke"  # kept apart from the real one (its own directory)
  return c


class OneOf(tuple):
  """An argument that takes one of a few values, the first its default: `one_of(8, 16, 28)`."""


def one_of(*values) -> OneOf:
  return OneOf(values)


class Args(dict):
  """A config's parsed arguments: `args.z` (or `args["z"]`), every one with a value."""

  def __getattr__(self, name):
    try:
      return self[name]
    except KeyError:
      raise AttributeError(f"no config argument {name!r}") from None


def _describe(name, default) -> str:
  if isinstance(default, OneOf):
    return f"{name!r} ({' | '.join(map(repr, default))}, default {default[0]!r})"
  if isinstance(default, bool):
    return f"{name!r} (bool{', default True' if default else ''})"
  return f"{name!r} ({type(default).__name__}, default {default!r})"


_A = {bool: "a bool", int: "an int", float: "a float", str: "a string"}


def _typed(name, text, default, known):
  """The value of `name=text` as the type of `default`; a ValueError naming the known ones."""
  kind = type(default[0] if isinstance(default, OneOf) else default)
  try:
    if isinstance(text, str):
      if kind is bool:
        value = {"true": True, "1": True, "false": False, "0": False}[text.lower()]
      else:
        value = kind(text)
    elif type(text) is kind or (kind is float and type(text) is int):
      value = kind(text)
    else:
      raise TypeError
  except (KeyError, TypeError, ValueError):
    raise ValueError(
      f"config argument {name}={text!r} is not {_A[kind]}; this config knows {known}."
    ) from None
  if isinstance(default, OneOf) and value not in default:
    raise ValueError(
      f"config argument {name}={value!r} is not one of {', '.join(map(repr, default))}; "
      f"this config knows {known}."
    )
  return value


def parse_arg(arg, names=None, /, **spec):
  """A config's argument, the text after `file.py:`, as typed values (big_vision's parse_arg).

  `spec` names every argument the config takes with its default, whose type the value must
  have: bool, int, float, str, or `one_of(...)` a few values. A bare name sets a bool
  argument; `name=value` gives any argument a value (a bool's: true or false):

    parse_arg("smoke,z=20", smoke=False, z=2)  ->  Args(smoke=True, z=20)

  `arg` may also be a mapping of typed values: what a derived config passes to the config
  it derives from. An unknown argument, a bare name of an argument that is not a bool, or a
  value of the wrong type is a one-line ValueError naming the known arguments and types.

  `names`, a tuple of flag names in place of `spec`, is the older form for configs whose
  arguments are all flags: `parse_arg("smoke,k2", ("smoke", "k2"))  ->  {"smoke", "k2"}`.
  """
  if names is not None:
    return {k for k, v in parse_arg(arg, **dict.fromkeys(names, False)).items() if v}
  spec = spec or {"smoke": False}
  known = ", ".join(_describe(k, v) for k, v in spec.items())
  if isinstance(arg, Mapping):
    given = dict(arg)
  else:
    given = {}
    for item in (a for a in (arg or "").split(",") if a):
      name, eq, text = item.partition("=")
      if name in spec and not eq and not isinstance(spec[name], bool):
        raise ValueError(
          f"config argument {name!r} needs a value ({name}=...); this config knows {known}."
        )
      given[name] = text if eq else True
  unknown = sorted(set(given) - set(spec))
  if unknown:
    raise ValueError(f"unknown config argument {unknown[0]!r}; this config knows {known}.")
  return Args(
    (k, _typed(k, given[k], v, known) if k in given else v[0] if isinstance(v, OneOf) else v)
    for k, v in spec.items()
  )
