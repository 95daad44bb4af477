"""`digits_cycle`: an unpaired two-domain set built from the embedded digits.

Domain A is one half of the digits as they are; domain B is the *other* half passed
through the known bijection T (transform.py), so no image of B is the translation of an
image of A (unpaired, as CycleGAN assumes), yet the right translation of any test image
is known exactly and translation error can be measured.
"""

import dataclasses

import numpy as np
import tensorflow_datasets as tfds

from genjax.data.digits import digits as digits_lib
from genjax.data.digits_cycle import appearance

_DESCRIPTION = """\
scikit-learn's 1,797 8x8 digits (see `digits`) split into two disjoint domains with the
split names of TFDS's cycle_gan sets. The digits' train split alternates between trainA
and trainB (674 / 673), its test split between testA and testB (150 / 150); the
validation split is not used. A images are stored as they are, B images as
T(x) = 255 - roll(x, (s, s)) with s = size // 8: inverted contrast, moved one source pixel
down and right (cyclically, so that T is exactly invertible).
"""


@dataclasses.dataclass
class DigitsCycleConfig(tfds.core.BuilderConfig):
  size: int = 8


def _config(size: int) -> DigitsCycleConfig:
  return DigitsCycleConfig(name=f"{size}x{size}", size=size, description=f"digits at {size}x{size}")


class DigitsCycle(tfds.core.GeneratorBasedBuilder):
  """Two domains of digits related by a known, invertible appearance change."""

  VERSION = tfds.core.Version("1.0.0")
  RELEASE_NOTES = {"1.0.0": "trainA 674 / trainB 673 / testA 150 / testB 150."}
  BUILDER_CONFIGS = [_config(8), _config(16), _config(28)]
  DEFAULT_CONFIG_NAME = "16x16"

  def _info(self) -> tfds.core.DatasetInfo:
    size = self.builder_config.size
    return self.dataset_info_from_configs(
      description=_DESCRIPTION,
      features=tfds.features.FeaturesDict(
        {
          "image": tfds.features.Tensor(shape=(size, size, 1), dtype=np.uint8),
          "label": tfds.features.ClassLabel(num_classes=10),
        }
      ),
      supervised_keys=("image", "label"),
      homepage="https://scikit-learn.org/stable/datasets/toy_dataset.html",
    )

  def _split_generators(self, dl_manager):
    del dl_manager  # The data ships with scikit-learn.
    return {s: self._generate_examples(s) for s in ("trainA", "trainB", "testA", "testB")}

  def _generate_examples(self, split: str):
    from sklearn.datasets import load_digits  # pylint: disable=g-import-not-at-top

    digits = load_digits()
    images = digits_lib.to_uint8(digits.images)
    ranks = {}
    for i, (image, label) in enumerate(zip(images, digits.target)):
      source = digits_lib.split_of(i)
      if source == "validation":
        continue
      rank = ranks[source] = ranks.get(source, -1) + 1
      domain = source + ("A" if rank % 2 == 0 else "B")
      if domain != split:
        continue
      image = digits_lib.resize(image, self.builder_config.size)
      if domain.endswith("B"):
        image = appearance.transform_uint8(image)
      yield i, {"image": image, "label": int(label)}
