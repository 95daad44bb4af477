"""CycleGAN on TFDS's cycle_gan/horse2zebra (trainA 1,067 horses / trainB 1,334 zebras)
at the paper's settings = cyclegan_digits.py at 256x256 with a ResNet generator of 9
blocks and a 70x70 PatchGAN (LSGAN, lambda = 10, identity 0.5 lambda, a pool of 50, Adam
2e-4 with beta1 = 0.5, as the default), batch 1, 100 epochs constant then 100 decaying
to zero (an epoch = max(|A|, |B|) steps, as the paper's code). The paper's random
286 -> 256 crops and flips are not done: images are resized to 256. Needs the dataset
prepared (`tfds build cycle_gan/horse2zebra --file_format=array_record`).
Args: `smoke` (bool)."""

from experiments.configs import base, cyclegan_digits


def get_config(arg=None):
  return paper_config("cycle_gan/horse2zebra", 1334, arg)


def paper_config(name: str, epoch_steps: int, arg=None):
  """The paper's setting on the two-domain TFDS dataset `name`; an epoch is
  `epoch_steps` = max(|A|, |B|) steps of batch 1."""
  args = base.parse_arg(arg, smoke=False)
  c = cyclegan_digits.get_config()
  c.data.update(name=name, image_size=256, batch_size=1, eval_batch_size=4)
  c.model.update(gen_features=64, gen_blocks=9, disc_features=64, disc_layers=3)
  c.train.num_steps = 200 * epoch_steps  # 100 constant + 100 decaying epochs
  c.train.update(log_every=1000, eval_every=20_000, checkpoint_every=5000)
  if args.smoke:
    cyclegan_digits.smoke(c)
    c.data.update(image_size=32, batch_size=2, eval_batch_size=4)
    c.model.disc_layers = 2
    c.objective.pool_size = 4
    c.eval.fd_num_samples = 0
  return c
