"""`digits`: scikit-learn's bundled 8x8 handwritten digits as a TFDS dataset.

The 1,797 images ship inside scikit-learn, so this dataset builds offline in
about two seconds and flows through exactly the same TFDS -> grain pipeline as
the catalog datasets that need a download.
"""

import dataclasses

import numpy as np
from PIL import Image
import tensorflow_datasets as tfds

_DESCRIPTION = """\
The optical recognition of handwritten digits data (UCI) as bundled with
scikit-learn: 1,797 grey-scale 8x8 images of the digits 0-9 written by 43
people, intensities 0..16 rescaled to 0..255. Splits are fixed by source index
i: test = i % 6 == 0, validation = i % 12 == 1, train = the rest.
"""

_CITATION = """\
@misc{alpaydin1998digits,
  author = {Alpaydin, E. and Kaynak, C.},
  title = {Optical Recognition of Handwritten Digits},
  year = {1998},
  howpublished = {UCI Machine Learning Repository},
  doi = {10.24432/C50P49}
}
"""

_SOURCE_SIZE = 8
_SOURCE_MAX = 16


@dataclasses.dataclass
class DigitsConfig(tfds.core.BuilderConfig):
  """Side length `size` of the stored square images."""

  size: int = _SOURCE_SIZE


def _config(size: int) -> DigitsConfig:
  how = (
    "the original pixels"
    if size == _SOURCE_SIZE
    else f"bilinear upsampling of the 8x8 images to {size}x{size}"
  )
  return DigitsConfig(name=f"{size}x{size}", size=size, description=how)


def split_of(index: int) -> str:
  """The split that source image `index` belongs to (fixed, not random)."""
  if index % 6 == 0:
    return "test"
  if index % 12 == 1:
    return "validation"
  return "train"


def to_uint8(images: np.ndarray) -> np.ndarray:
  """0..16 intensities -> 0..255, rounding half up."""
  return np.floor(images * (255 / _SOURCE_MAX) + 0.5).astype(np.uint8)


def resize(image: np.ndarray, size: int) -> np.ndarray:
  """[8, 8] uint8 -> [size, size, 1] uint8.

  This is an interpolation: a 28x28 digit is a smooth 8x8 digit and holds no
  more detail. It exists so that conv architectures with several stride-2
  stages have room to work.
  """
  if size != image.shape[0]:
    image = np.asarray(Image.fromarray(image).resize((size, size), Image.Resampling.BILINEAR))
  return image[..., None]


class Digits(tfds.core.GeneratorBasedBuilder):
  """scikit-learn's 8x8 handwritten digits, optionally resized."""

  VERSION = tfds.core.Version("1.0.0")
  RELEASE_NOTES = {
    "1.0.0": "Initial release: 8x8, 16x16 and 28x28 configs; "
    "train 1,347 / validation 150 / test 300.",
  }
  BUILDER_CONFIGS = [_config(8), _config(16), _config(28)]
  DEFAULT_CONFIG_NAME = "8x8"

  def _info(self) -> tfds.core.DatasetInfo:
    size = self.builder_config.size
    return self.dataset_info_from_configs(
      description=_DESCRIPTION,
      features=tfds.features.FeaturesDict(
        {
          # Tensor, not Image: Image's encoder needs TensorFlow.
          "image": tfds.features.Tensor(shape=(size, size, 1), dtype=np.uint8),
          "label": tfds.features.ClassLabel(num_classes=10),
        }
      ),
      supervised_keys=("image", "label"),
      homepage="https://scikit-learn.org/stable/datasets/toy_dataset.html",
      citation=_CITATION,
    )

  def _split_generators(self, dl_manager):
    del dl_manager  # Nothing to download: the data ships with scikit-learn.
    return {s: self._generate_examples(s) for s in ("train", "validation", "test")}

  def _generate_examples(self, split: str):
    # Imported here: scikit-learn takes seconds to import, and only
    # preparing the dataset needs it.
    from sklearn.datasets import load_digits  # pylint: disable=g-import-not-at-top

    digits = load_digits()
    images = to_uint8(digits.images)
    for i, (image, label) in enumerate(zip(images, digits.target)):
      if split_of(i) == split:
        yield i, {"image": resize(image, self.builder_config.size), "label": int(label)}
