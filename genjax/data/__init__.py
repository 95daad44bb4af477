"""Datasets and input pipelines: TFDS sources -> grain iterators of batches.

Importing this package registers genjax's own TFDS builders (`digits`).
"""

from genjax.data.pipeline import image_shape
from genjax.data.pipeline import iterate_eval
from genjax.data.pipeline import load_split
from genjax.data.pipeline import make_train_iterator
from genjax.data.pipeline import PAIR_SEP
from genjax.data.pipeline import split_sizes
from genjax.data.pipeline import validate
from genjax.data.sources import DataSpec
from genjax.data.sources import DatasetError
from genjax.data.sources import check_domains
from genjax.data.sources import check_prepared
from genjax.data.sources import dataset_info
from genjax.data.sources import mock_catalog
from genjax.data.sources import open_source
from genjax.data.sources import resolve_data_dir
from genjax.data.splits import num_records
from genjax.data.splits import shared_splits
from genjax.data.splits import split_names
from genjax.data.splits import splits_overlap
from genjax.data.splits import train_split

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
