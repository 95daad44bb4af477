"""Errors that mean "the user asked for something that cannot be done".

launch/ prints their message (one sentence) and exits non-zero without a traceback;
anything else is a bug and keeps its traceback.
"""


class GenjaxError(Exception):
  """Base class of every user-facing error."""


class ConfigError(GenjaxError):
  """A config value that is unknown, of the wrong type or out of range."""


class CheckpointError(GenjaxError):
  """A checkpoint that cannot be restored into the state this config builds."""


class TrainingDiverged(GenjaxError):
  """A non-finite loss; the last good checkpoint is kept."""


class StorageError(GenjaxError):
  """The workdir cannot be written (a full disk, a read-only file system, no permission);
  the checkpoints written before are kept."""
