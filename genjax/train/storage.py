"""Storage faults as one sentence: a workdir on a full disk, on a read-only file system or
without write permission ends the run with a StorageError that names the path and the
cause, and leaves the checkpoints written before as they were.

Where such a fault surfaces (measured with orbax-checkpoint 0.12.8 on a full tmpfs):
Python's own writes (config.json, metrics.jsonl, train_seconds.json, samples) raise
OSError with an errno; Orbax writes arrays through TensorStore in a background thread,
whose failure comes back from the next save or from wait_until_finished as a ValueError
("RESOURCE_EXHAUSTED: Error writing ... in OCDBT database at local file "<dir>": Failed
writing: "<file>": ... No space left on device [os_error_code='28']"), after that thread
has logged its own traceback. So a save is refused up front when the disk has less room
than the state takes (`check_space`), and a workdir that cannot be written is found
before any dataset or compile (`check_writable`); what still slips through is converted
by `reraise`. Orbax writes a step into N.orbax-checkpoint-tmp and renames it when
complete, and deletes old steps only after a new one is complete, so a failed save
leaves the earlier steps untouched.
"""

import errno
import os
import re

from genjax.errors import StorageError

CAUSES = {
  errno.ENOSPC: "no space left on the device",
  errno.EDQUOT: "the disk quota is exceeded",
  errno.EFBIG: "the file is too large for the file system",
  errno.EROFS: "the file system is read-only",
  errno.EACCES: "permission denied",
  errno.EPERM: "operation not permitted",
}
_PERMISSION = (errno.EACCES, errno.EPERM)


def cause(e: BaseException, workdir: str = ""):
  """(path, cause) if `e`, or an exception it arose from, is a storage fault, else None.

  With `workdir`, a permission error counts only on a path inside it: the same error
  while reading a dataset or a feature network's weights from elsewhere is no fault of
  the workdir's, and is left to say what it is."""
  seen = set()
  while e is not None and id(e) not in seen:
    seen.add(id(e))
    if isinstance(e, OSError) and e.errno in CAUSES:
      path = str(e.filename or "")
      if workdir and path and e.errno in _PERMISSION and not _inside(path, workdir):
        return None
      return _shorten(path), CAUSES[e.errno]
    code = re.search(r"os_error_code='?(\d+)", str(e))  # TensorStore's errors
    if code and int(code.group(1)) in CAUSES:
      paths = re.findall(r'"(/[^"]+)"', str(e))
      return _shorten(paths[-1] if paths else ""), CAUSES[int(code.group(1))]
    e = e.__cause__ or e.__context__
  return None


def _inside(path: str, directory: str) -> bool:
  path, directory = os.path.abspath(path), os.path.abspath(directory)
  return os.path.commonpath([path, directory]) == directory


def _shorten(path: str) -> str:
  # A file deep inside a step being written is named by the step's directory.
  parts = path.split(os.sep)
  for i, part in enumerate(parts):
    if ".orbax-checkpoint-tmp" in part:
      return os.sep.join(parts[: i + 1])
  return path


def kept(checkpoint_dir: str) -> str:
  try:
    steps = sorted(int(s) for s in os.listdir(checkpoint_dir) if s.isdigit())
  except OSError:
    steps = []
  if not steps:
    return "no checkpoint had been written"
  listed = ", ".join(map(str, steps))
  return (
    f"the checkpoints written before (step{'s' if len(steps) > 1 else ''} {listed} in "
    f"{checkpoint_dir}) are left as they were"
  )


def error(path: str, why: str, checkpoint_dir: str) -> StorageError:
  what = f"Cannot write {path}" if path else "Cannot write to the workdir"
  return StorageError(
    f"{what}: {why}; training stopped and {kept(checkpoint_dir)}. Free space or give a "
    f"writable workdir, then rerun the same command to resume."
  )


def reraise(e: BaseException, checkpoint_dir: str) -> None:
  """Raises `e` as a StorageError if it is a storage fault of the workdir that holds
  `checkpoint_dir` (does nothing otherwise)."""
  found = cause(e, os.path.dirname(os.path.abspath(checkpoint_dir)))
  if found is not None and not isinstance(e, StorageError):
    raise error(*found, checkpoint_dir) from e


def check_writable(workdir: str, checkpoint_dir: str) -> None:
  """Creates workdir (if needed) and a file in it, so that a read-only or full workdir is
  found before any dataset is built or step compiled (root ignores permission bits, so
  only a real write tells)."""
  probe = os.path.join(workdir, f".write_probe.{os.getpid()}")
  try:
    os.makedirs(workdir, exist_ok=True)
    with open(probe, "w", encoding="utf-8") as f:
      f.write("genjax")
    os.remove(probe)
  except OSError as e:
    found = cause(e)
    if found is None:
      raise
    raise error(workdir, found[1], checkpoint_dir) from e


def check_space(checkpoint_dir: str, step: int, nbytes: int) -> None:
  """Refuses to start saving `step` (about `nbytes`) where the disk has less room: a
  save that runs out of space half-way fails in a background thread, noisily."""
  try:
    st = os.statvfs(checkpoint_dir)
  except OSError:
    return  # not a local file system (gs://); the save reports its own errors
  free = st.f_bavail * st.f_frsize
  if free < nbytes:
    raise error(
      f"checkpoint step {step} in {checkpoint_dir}",
      f"no space left on the device (it needs about {nbytes / 2**20:.1f} MiB and the disk "
      f"has {free / 2**20:.1f} MiB free)",
      checkpoint_dir,
    )
