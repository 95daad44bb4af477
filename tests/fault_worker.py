"""launch.train with one fault injected, for tests/test_faults.py.

GENJAX_FAULT=batch:12:nan python -m tests.fault_worker --config=... --workdir=...

batch:S:V   the batch that step S trains on holds V (nan or inf) in one pixel
enospc:S    the checkpoint save of step S fails as TensorStore reports a full disk
erofs       every file Python opens for writing under the workdir is on a read-only
            file system (where the test cannot mount one)
"""

import builtins
import dataclasses
import errno
import os
import sys

import jax.numpy as jnp


def poison_batches(experiment, at_step: int, value: float):
  """`experiment` whose step `at_step` trains on a batch with `value` in its first pixel."""

  def train_step(state, batch, key):
    image = batch["image"]
    bad = image.at[(0,) * image.ndim].set(jnp.asarray(value, image.dtype))
    batch = dict(batch, image=jnp.where(state.step == at_step, bad, image))
    return experiment.train_step(state, batch, key)

  return dataclasses.replace(experiment, train_step=train_step)


def _workdir() -> str:
  return os.path.abspath(next(a for a in sys.argv if a.startswith("--workdir=")).split("=", 1)[1])


def _inject(fault: str) -> None:
  kind, _, arg = fault.partition(":")
  if kind == "batch":
    import experiments  # pylint: disable=import-outside-toplevel

    step, value = arg.split(":")
    build = experiments.build
    experiments.build = lambda config: poison_batches(build(config), int(step), float(value))
  elif kind == "enospc":
    from genjax.train import checkpoint  # pylint: disable=import-outside-toplevel

    save = checkpoint.Checkpointer.save

    def full_disk(self, step, state, data_iterator):
      if step < int(arg):
        return save(self, step, state, data_iterator)
      path = f"{self.directory}/{step}.orbax-checkpoint-tmp/state.orbax-checkpoint-tmp/d/0"
      raise ValueError(
        f'RESOURCE_EXHAUSTED: Error writing "params/0" in OCDBT database at local file '
        f'"{os.path.dirname(path)}/": Failed writing: "{path}": Failed to write 3792896 '
        f"bytes to file 8: No space left on device [os_error_code='28']"
      )

    checkpoint.Checkpointer.save = full_disk
  elif kind == "erofs":
    workdir, real_open = _workdir(), builtins.open

    def read_only(file, mode="r", *args, **kwargs):
      if (
        isinstance(file, str)
        and os.path.abspath(file).startswith(workdir)
        and set(mode) & set("wax+")
      ):
        raise OSError(errno.EROFS, os.strerror(errno.EROFS), file)
      return real_open(file, mode, *args, **kwargs)

    builtins.open = read_only
  else:
    raise SystemExit(f"unknown GENJAX_FAULT {fault!r}")


if __name__ == "__main__":
  _inject(os.environ["GENJAX_FAULT"])
  from launch import common, train  # pylint: disable=import-outside-toplevel

  common.run(train.main)
