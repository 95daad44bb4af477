"""What every entry point shares: user errors as one sentence, multi-process start-up,
quiet library logs."""

import json
import logging
import os
import re
import sys

from absl import app, flags

from genjax.data import DatasetError
from genjax.errors import GenjaxError

USER_ERRORS = (GenjaxError, DatasetError)


def fail(message: str) -> None:
  print(f"error: {message}", file=sys.stderr, flush=True)
  sys.exit(2)


def run(main) -> None:
  """absl's app.run, with a user mistake ending in one line on stderr and exit status 2."""

  def guarded(argv):
    try:
      return main(argv)
    except USER_ERRORS as e:
      fail(str(e))

  app.run(guarded, flags_parser=_parse_flags)


def _parse_flags(argv):
  """Flag and config mistakes (unknown field, wrong type, missing file) as one sentence."""
  try:
    rest = flags.FLAGS(argv)
    if "config" in flags.FLAGS:
      # A config file that failed to load reports it on first attribute access.
      flags.FLAGS.config.get("seed")
    return rest
  except (AttributeError, KeyError) as e:
    fail(_unknown_field(argv, e))
  except (flags.Error, OSError, TypeError, ValueError) as e:
    fail(_flag_error(str(e)))


def _flag_error(text: str) -> str:
  text = " ".join(text.split())
  missing = re.search(r"No such file or directory: '([^']+)'", text)
  if missing:
    return f"config file {missing.group(1)} does not exist."
  if "Traceback" in text:  # an exception inside get_config(): keep its own message
    return re.findall(r"\w+Error: (.*?)(?= \w+Error: |$)", text)[-1]
  return text


def _unknown_field(argv, e) -> str:
  text = str(e).strip("'\"").replace("\\n", " ").replace("\\'", "'")
  name = text.split("'")[1] if text.count("'") >= 2 else text
  offending = next(
    (
      a.split("=")[0]
      for a in argv
      if a.startswith("--config.") and f".{name}." in a.split("=")[0] + "."
    ),
    f"--config...{name}",
  )
  hint = text[text.index("Did you mean") :].rstrip("'\"") if "Did you mean" in text else ""
  return f"{offending} is not a field of this config. {hint}".strip()


def quiet_libraries() -> None:
  # Orbax and absl log every save at INFO; our own progress goes to stdout.
  from absl import logging as absl_logging  # pylint: disable=import-outside-toplevel

  absl_logging.set_verbosity(absl_logging.WARNING)
  logging.getLogger().setLevel(logging.WARNING)


def init_distributed(parallel) -> None:
  """Starts JAX's multi-process runtime when the config or the cluster asks for it."""
  import jax  # pylint: disable=import-outside-toplevel

  if parallel.auto_detect:
    jax.distributed.initialize()  # SLURM, Cloud TPU, Open MPI, Kubernetes env
  elif parallel.num_processes > 1:
    if not parallel.coordinator_address:
      raise GenjaxError(
        "parallel.num_processes > 1 needs parallel.coordinator_address (host:port of process 0)."
      )
    jax.distributed.initialize(
      parallel.coordinator_address, parallel.num_processes, parallel.process_id
    )


def load_workdir_config(workdir: str):
  """The config a workdir was trained with (its config.json)."""
  import ml_collections  # pylint: disable=import-outside-toplevel

  path = os.path.join(workdir, "config.json")
  if not os.path.exists(path):
    raise GenjaxError(f"{workdir} holds no config.json; train into it with launch.train first.")
  with open(path, encoding="utf-8") as f:
    return ml_collections.ConfigDict(_tuples(json.load(f)))


def _tuples(tree):
  # JSON turns tuples into lists; models expect hashable tuples.
  if isinstance(tree, dict):
    return {k: _tuples(v) for k, v in tree.items()}
  if isinstance(tree, list):
    return tuple(_tuples(v) for v in tree)
  return tree
