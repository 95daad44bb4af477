"""Opening TFDS datasets as random-access sources, with one-sentence errors.

Our machines reach no dataset host, so every way a dataset can be missing must
end in a `DatasetError` that says what to do, quickly: TFDS itself would retry
a download for minutes or fail with a misleading message.
"""

import contextlib
import dataclasses
import os
import shutil
import socket
from unittest import mock

import tensorflow_datasets as tfds

# Importing these modules registers the TFDS builders that genjax ships; nothing else
# names them, so the imports must stay although they look unused.
from genjax.data import digits as _digits  # noqa: F401
from genjax.data import digits_cycle as _digits_cycle  # noqa: F401
from genjax.errors import GenjaxError

_PROBE_HOST = ("storage.googleapis.com", 443)
_PROBE_TIMEOUT_S = 3.0

# Datasets whose uint8 pixels are not 0..255.
_PIXEL_MAX = {"binarized_mnist": 1}


class DatasetError(GenjaxError):
  """A dataset cannot be used; the message is one sentence for the user."""


@dataclasses.dataclass(frozen=True)
class DataSpec:
  """What a model needs to know about a dataset to size itself.

  image_shape: (H, W, C) as stored; H and W are None for variable-size images.
  num_classes: 0 when the dataset has no 'label' feature.
  num_examples: per split; empty while a catalog dataset is not prepared.
  pixel_max: the stored value of a white pixel (1 for binarized_mnist).
  """

  name: str
  image_shape: tuple[int | None, int | None, int]
  num_classes: int
  num_examples: dict[str, int]
  pixel_max: int


def resolve_data_dir(data_dir: str | None) -> str:
  """'' or None -> TFDS's default: $TFDS_DATA_DIR or ~/tensorflow_datasets."""
  if not data_dir:
    data_dir = tfds.core.constants.get_default_data_dir()
  return os.path.abspath(os.path.expanduser(data_dir))


def _first_line(e: BaseException) -> str:
  text = str(e).strip().splitlines()
  return (text[0] if text else type(e).__name__).rstrip(".:")


def _builder(name: str, data_dir: str) -> tfds.core.DatasetBuilder:
  try:
    return tfds.builder(name, data_dir=data_dir)
  except tfds.core.registered.DatasetNotFoundError as e:
    raise DatasetError(
      f"Dataset '{name}' is not in the TFDS catalog nor built into genjax; "
      "see https://www.tensorflow.org/datasets/catalog for names."
    ) from e
  except (ValueError, AssertionError) as e:  # Bad config or version.
    # TFDS prefixes the cause with the builder's kwargs; keep the cause.
    cause = _first_line(e).split('": ', 1)[-1]
    raise DatasetError(f"Dataset '{name}' cannot be opened: {_config_hint(name) or cause}.") from e


def _config_hint(name: str) -> str | None:
  base, _, config = name.partition("/")
  try:
    configs = [c.name for c in tfds.builder_cls(base).BUILDER_CONFIGS]
  except Exception:  # pylint: disable=broad-except
    return None
  config = config.split(":")[0]
  if config and config not in configs:
    return f"'{base}' has no config '{config}' (its configs: {', '.join(configs) or 'none'})"
  return None


def _is_embedded(builder: tfds.core.DatasetBuilder) -> bool:
  # Builders defined in genjax generate their data locally, in seconds.
  return type(builder).__module__.startswith("genjax.")


def _reachable(address: tuple[str, int]) -> bool:
  try:
    with socket.create_connection(address, timeout=_PROBE_TIMEOUT_S):
      return True
  except OSError:
    return False


def _prepare(builder: tfds.core.DatasetBuilder, name: str, data_dir: str):
  """download_and_prepare, removing the directories a failed attempt made."""
  made = [
    p
    for p in (os.path.join(data_dir, "downloads"), os.path.join(data_dir, builder.name), data_dir)
    if not os.path.exists(p)
  ]
  try:
    builder.download_and_prepare(file_format="array_record")
  except Exception as e:  # pylint: disable=broad-except
    # Another process sharing data_dir may have finished the same work.
    if builder.is_prepared():
      return
    for path in made:
      shutil.rmtree(path, ignore_errors=True)
    raise DatasetError(f"Preparing dataset '{name}' in {data_dir} failed: {_first_line(e)}.") from e


def _ensure_prepared(builder, name: str, data_dir: str, download: bool):
  # is_prepared only looks at files (0.07 s); it must come before anything
  # that could start a download.
  if builder.is_prepared():
    return
  if _is_embedded(builder):
    _prepare(builder, name, data_dir)
    return
  build = (
    f"run `tfds build {name} --data_dir={data_dir} "
    "--file_format=array_record` on a machine with internet access "
    "and copy the directory here"
  )
  if not download:
    raise DatasetError(
      f"Dataset '{name}' is not prepared in {data_dir}: {build}, or set data.download=True."
    )
  if not _reachable(_PROBE_HOST):
    raise DatasetError(
      f"Dataset '{name}' is not prepared in {data_dir} and cannot be "
      f"downloaded because {_PROBE_HOST[0]} is unreachable: {build}."
    )
  _prepare(builder, name, data_dir)


def _check_split(builder, name: str, split: str):
  known = list(builder.info.splits)
  # Splits are only known once prepared (and not under mock_catalog).
  if not known:
    return
  wanted = {part.split("[")[0].strip() for part in split.split("+")}
  if not wanted <= set(known):
    raise DatasetError(
      f"Dataset '{name}' has no split '{split}'; available splits: {', '.join(known)}."
    )


def open_source(name: str, split: str, data_dir: str | None = None, *, download: bool = False):
  """The random-access source of one split, e.g. ('digits/28x28', 'train').

  Same result as `tfds.data_source(name, split=split, data_dir=...)`, but a
  missing dataset fails fast with a `DatasetError` instead of retrying
  downloads, and genjax's own datasets are prepared on first use.
  """
  data_dir = resolve_data_dir(data_dir)
  builder = _builder(name, data_dir)
  _ensure_prepared(builder, name, data_dir, download)
  _check_split(builder, name, split)
  try:
    return builder.as_data_source(split=split)
  except NotImplementedError as e:  # Prepared, but as tfrecord.
    raise DatasetError(
      f"Dataset '{name}' in {data_dir} is stored in a format without random "
      f"access: rebuild it with `tfds build {name} --data_dir={data_dir} "
      "--file_format=array_record`."
    ) from e


def check_prepared(name: str, data_dir: str | None = None, *, download: bool = False) -> None:
  """The DatasetError open_source would raise for a dataset that is not prepared, now
  and without reading a record; with `download` nothing, as the download comes later."""
  if download:
    return
  data_dir = resolve_data_dir(data_dir)
  _ensure_prepared(_builder(name, data_dir), name, data_dir, download=False)


def dataset_info(name: str, data_dir: str | None = None) -> DataSpec:
  """Shapes and sizes of a dataset, without needing a catalog one prepared."""
  data_dir = resolve_data_dir(data_dir)
  builder = _builder(name, data_dir)
  if _is_embedded(builder):
    _ensure_prepared(builder, name, data_dir, download=False)
  features = builder.info.features
  if "image" not in features:
    raise DatasetError(f"Dataset '{name}' has no 'image' feature, so genjax cannot model it.")
  label = features["label"] if "label" in features else None
  return DataSpec(
    name=name,
    image_shape=tuple(features["image"].shape),
    num_classes=getattr(label, "num_classes", 0) or 0,
    num_examples={k: v.num_examples for k, v in builder.info.splits.items()},
    pixel_max=_PIXEL_MAX.get(builder.name, 255),
  )


@contextlib.contextmanager
def mock_catalog(num_examples: int, max_value: int | None = None):
  """For tests: every dataset yields `num_examples` random examples.

  `tfds.testing.mock_data` replaces `as_data_source` but points every builder
  at a data_dir that does not exist, so our `is_prepared()` guard would
  (rightly) refuse; here it is patched too, so the rest of `open_source` (split
  and format handling) runs unchanged. Mocked splits are unbounded and alike.
  """
  with (
    tfds.testing.mock_data(
      num_examples=num_examples, max_value=max_value, policy=tfds.testing.MockPolicy.USE_CODE
    ),
    mock.patch.object(tfds.core.DatasetBuilder, "is_prepared", return_value=True),
  ):
    yield


def check_domains(name: str, domains, data_dir: str | None = None) -> None:
  """Two-domain (unpaired) data needs exactly two splits, both present."""
  domains = tuple(domains)
  if len(domains) != 2 or len(set(domains)) != 2:
    raise DatasetError(
      f"data.domains must name two different splits of '{name}' "
      f"(e.g. ('trainA', 'trainB')), not {domains}."
    )
  known = dataset_info(name, data_dir).num_examples
  # Splits are only known once prepared (and not under mock_catalog).
  missing = [d for d in domains if known and d not in known]
  if missing:
    raise DatasetError(
      f"Dataset '{name}' lacks the domain split '{missing[0]}' that a "
      f"two-domain model needs; its splits are "
      f"{', '.join(sorted(known))}."
    )
