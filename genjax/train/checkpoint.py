"""Orbax checkpoints of the train state and the data iterator, in workdir/checkpoints.

A checkpoint holds two items: `state` (any pytree of arrays: parameters, optimiser
state, EMA, step) and `data` (the grain iterator's position), so a resumed run sees
exactly the batches it would have seen.
"""

import json
import logging
import os
import shutil

from etils import epath
import grain
import jax
from jax.experimental import multihost_utils
import numpy as np
import orbax.checkpoint as ocp

from genjax.errors import CheckpointError

_ITEMS = ("state", "data")


def _handlers():
  # Declared up front: an empty newest step directory otherwise makes the manager
  # forget the item layout ("Must provide args of type Composite"; orbax 0.12.8).
  return {"state": ocp.StandardCheckpointHandler(), "data": grain.checkpoint.CheckpointHandler()}


class Checkpointer:
  """Saves asynchronously, keeps the last `max_to_keep`, restores the newest good step."""

  def __init__(self, directory: str, *, max_to_keep: int = 3, async_save: bool = True):
    self.directory = os.path.abspath(directory)
    self._max_to_keep = max_to_keep
    self._async = async_save
    self._manager = self._open()

  def _open(self):
    options = ocp.CheckpointManagerOptions(
      max_to_keep=self._max_to_keep, create=True, enable_async_checkpointing=self._async
    )
    return ocp.CheckpointManager(
      self.directory, options=options, item_names=_ITEMS, item_handlers=_handlers()
    )

  def steps(self) -> list[int]:
    return sorted(self._manager.all_steps())

  def latest_step(self) -> int | None:
    return self._manager.latest_step()

  def save(self, step: int, state, data_iterator) -> None:
    self._manager.save(
      step,
      args=ocp.args.Composite(
        state=ocp.args.StandardSave(state), data=grain.checkpoint.CheckpointSave(data_iterator)
      ),
      force=True,
    )

  def wait(self) -> None:
    self._manager.wait_until_finished()

  def close(self) -> None:
    self._manager.wait_until_finished()
    self._manager.close()

  def restore(self, abstract_state, data_iterator=None, *, step: int | None = None):
    """Returns (step, state) of the newest restorable checkpoint, or None if there is none.

    `abstract_state` is a pytree of jax.ShapeDtypeStruct (with shardings); the data
    iterator, if given, is moved to the saved position in place. A newest step that is
    corrupt (a run killed mid-write, a truncated file) is moved aside to
    checkpoints_corrupt/ -- kept, not deleted -- and the previous step is tried. A
    checkpoint whose arrays do not match this config's state is an error: that is a
    different experiment, and silently starting over would overwrite it.
    """
    candidates = [step] if step is not None else sorted(self._manager.all_steps(), reverse=True)
    for s in candidates:
      self._check_compatible(s, abstract_state)
      args = {"state": ocp.args.StandardRestore(abstract_state)}
      if data_iterator is not None:
        args["data"] = grain.checkpoint.CheckpointRestore(data_iterator)
      try:
        restored = self._manager.restore(s, args=ocp.args.Composite(**args))
      except (ValueError, FileNotFoundError, KeyError, OSError) as e:
        if step is not None:
          raise CheckpointError(
            f"Checkpoint step {s} in {self.directory} cannot be read ({_short(e)})."
          ) from e
        logging.warning(
          "Checkpoint step %d in %s is unreadable (%s); moving it to "
          "checkpoints_corrupt/ and trying the previous one.",
          s,
          self.directory,
          _short(e),
        )
        self._quarantine(s)
        continue
      return s, restored["state"]
    return None

  def _check_compatible(self, step: int, abstract_state) -> None:
    try:
      meta = self._manager.item_metadata(step)["state"]
    except Exception:  # pylint: disable=broad-except
      return  # Unreadable metadata is corruption; restore() handles it.
    if meta is None:
      return
    saved_leaves = _flat_shapes(meta.tree if hasattr(meta, "tree") else meta)
    wanted_leaves = _flat_shapes(abstract_state)
    if saved_leaves != wanted_leaves:
      keys = sorted(set(saved_leaves) | set(wanted_leaves))
      k = next(k for k in keys if saved_leaves.get(k) != wanted_leaves.get(k))
      where = (
        f" ({k}: saved {saved_leaves.get(k, 'absent')}, "
        f"this config {wanted_leaves.get(k, 'absent')})"
      )
      raise CheckpointError(
        f"The checkpoint at step {step} in {self.directory} was written by a different "
        f"model or config{where}; use a new --workdir or the config it was trained with."
      )

  def _quarantine(self, step: int) -> None:
    if jax.process_index() == 0:
      src = os.path.join(self.directory, str(step))
      dst = os.path.join(os.path.dirname(self.directory), "checkpoints_corrupt", str(step))
      os.makedirs(os.path.dirname(dst), exist_ok=True)
      if os.path.exists(dst):
        shutil.rmtree(dst)
      shutil.move(src, dst)
    if jax.process_count() > 1:
      multihost_utils.sync_global_devices(f"genjax_quarantine_{step}")
    self._manager.close()
    self._manager = self._open()


def _flat_shapes(tree) -> dict:
  leaves, _ = jax.tree_util.tree_flatten_with_path(tree)
  return {"/".join(_key_name(k) for k in path): tuple(leaf.shape) for path, leaf in leaves}


def _key_name(k) -> str:
  # Saved metadata comes back as dicts where the live state has dataclass attributes.
  for attr in ("key", "name", "idx"):
    if hasattr(k, attr):
      return str(getattr(k, attr))
  return str(k)


def _short(e: Exception) -> str:
  text = str(e).strip().splitlines()
  return f"{type(e).__name__}: {text[0][:200]}" if text else type(e).__name__


def load_trained(workdir: str, what: str) -> tuple[dict, dict]:
  """(state, config dict) of the newest checkpoint of a finished run in `workdir`, read
  without knowing its structure: for a model that reuses another run's weights (the
  feature network, a fine-tuned encoder). `what` names it in the error messages."""
  ckdir = os.path.join(os.path.abspath(workdir), "checkpoints")  # Orbax wants absolute
  steps = sorted(int(s) for s in os.listdir(ckdir) if s.isdigit()) if os.path.isdir(ckdir) else []
  config_path = os.path.join(workdir, "config.json")
  if not steps or not os.path.exists(config_path):
    raise CheckpointError(f"No trained {what} in {workdir}.")
  with open(config_path, encoding="utf-8") as f:
    config = json.load(f)
  try:
    state = _restore_on_host(os.path.join(ckdir, str(steps[-1]), "state"))
  except (ValueError, FileNotFoundError, KeyError, OSError) as e:
    raise CheckpointError(f"The {what} in {workdir} cannot be read ({_short(e)}).") from e
  return state, config


def _restore_on_host(path: str):
  """A saved pytree as NumPy arrays in this process's memory.

  Restored without a target, Orbax places each array with the sharding it was saved
  with: a run saved by one process names that process's device, which another process
  of a multi-process run cannot address ("the Array has no addressable shards"). Host
  arrays are what a run reusing another's weights needs, on every process, and each
  process reads them on its own.
  """
  # This process alone: Orbax's default restore is a barrier over every process, which a
  # process that failed before reaching it would leave the others waiting in.
  alone = ocp.options.MultiprocessingOptions(
    primary_host=jax.process_index(), active_processes={jax.process_index()}
  )
  handler = ocp.PyTreeCheckpointHandler(multiprocessing_options=alone)
  tree = handler.metadata(epath.Path(path))
  tree = getattr(tree, "tree", tree)
  restore_args = jax.tree.map(lambda _: ocp.RestoreArgs(restore_type=np.ndarray), tree)
  return ocp.Checkpointer(handler, multiprocessing_options=alone).restore(
    path, args=ocp.args.PyTreeRestore(restore_args=restore_args)
  )


def graft(params, pretrained, what: str):
  """`params` with every leaf replaced by the leaf at the same path in `pretrained`
  (which may hold more, e.g. a decoder the new model does not use). A missing leaf or a
  different shape is an error: the pretrained run had another architecture."""
  flat = dict(jax.tree_util.tree_flatten_with_path(pretrained)[0])
  flat = {tuple(_key_name(k) for k in path): v for path, v in flat.items()}

  def take(path, leaf):
    name = tuple(_key_name(k) for k in path)
    got = flat.get(name)
    if got is None or tuple(got.shape) != tuple(leaf.shape):
      have = "absent" if got is None else tuple(got.shape)
      raise CheckpointError(
        f"The {what} does not fit this model: {'/'.join(name)} is {have} there and "
        f"{tuple(leaf.shape)} here; use the architecture it was trained with."
      )
    return jax.numpy.asarray(got, leaf.dtype)

  return jax.tree_util.tree_map_with_path(take, params)
