"""CycleGAN on TFDS's cycle_gan/monet2photo (trainA 1,072 Monet paintings / trainB 6,287
photos) at the paper's settings, exactly as cyclegan_horse2zebra.py (whose docstring
lists them) but for the data and the epoch length. Needs the dataset prepared
(`tfds build cycle_gan/monet2photo --file_format=array_record`). Args: `smoke` (bool)."""

from experiments.configs import cyclegan_horse2zebra


def get_config(arg=None):
  return cyclegan_horse2zebra.paper_config("cycle_gan/monet2photo", 6287, arg)
