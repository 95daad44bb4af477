"""Datasets and input pipelines: TFDS sources -> grain iterators of batches.

Importing this package registers genjax's own TFDS builders (`digits`).
"""

from genjax.data.pipeline import (
  PAIR_SEP,
  image_shape,
  iterate_eval,
  load_split,
  make_train_iterator,
  split_sizes,
  validate,
)
from genjax.data.sources import (
  DatasetError,
  DataSpec,
  check_domains,
  check_prepared,
  dataset_info,
  mock_catalog,
  open_source,
  resolve_data_dir,
)
from genjax.data.splits import num_records, shared_splits, split_names, splits_overlap, train_split

__all__ = [
  "DataSpec",
  "DatasetError",
  "PAIR_SEP",
  "check_domains",
  "check_prepared",
  "dataset_info",
  "image_shape",
  "iterate_eval",
  "load_split",
  "make_train_iterator",
  "mock_catalog",
  "num_records",
  "open_source",
  "resolve_data_dir",
  "shared_splits",
  "split_names",
  "split_sizes",
  "splits_overlap",
  "train_split",
  "validate",
]
