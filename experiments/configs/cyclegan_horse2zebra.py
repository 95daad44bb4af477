"""CycleGAN on TFDS's cycle_gan/horse2zebra (trainA 1,067 horses / trainB 1,334 zebras)
at the paper's settings: 256x256,
ResNet generator with 9 blocks, 70x70 PatchGAN, LSGAN, lambda = 10, identity 0.5 lambda,
pool of 50, batch 1, Adam 2e-4 with beta1 = 0.5, 100 epochs constant then 100 decaying
to zero (an epoch = max(|A|, |B|) steps, as the paper's code). The paper's random
286 -> 256 crops and flips are not done: images are resized to 256. Needs the dataset
prepared (`tfds build cycle_gan/horse2zebra --file_format=array_record`). Args: `smoke`."""

import ml_collections

from experiments.configs import base


def get_config(arg=None):
  return paper_config("cycle_gan/horse2zebra", 1334, arg)


def paper_config(name: str, epoch_steps: int, arg=None):
  """The paper's setting on the two-domain TFDS dataset `name`; an epoch is
  `epoch_steps` = max(|A|, |B|) steps of batch 1."""
  args = base.parse_arg(arg, ("smoke",))
  c = base.get_base_config()
  c.family = "cyclegan"
  c.data.name = name
  c.data.domains = ("trainA", "trainB")
  c.data.image_size = 256
  c.data.batch_size = 1
  c.data.eval_batch_size = 4
  c.model = ml_collections.ConfigDict(
    dict(gen_features=64, gen_blocks=9, disc_features=64, disc_layers=3)
  )
  c.objective = ml_collections.ConfigDict(
    dict(gan_loss="lsgan", lambda_cycle=10.0, lambda_identity=0.5, pool_size=50)
  )
  c.optim.name = "adam"
  c.optim.learning_rate = 2e-4
  c.optim.b1 = 0.5
  c.optim.schedule = "constant_then_linear"
  c.train.num_steps = 200 * epoch_steps  # 100 constant + 100 decaying epochs
  c.train.log_every = 1000
  c.train.eval_every = 20000
  c.train.sample_every = 0
  c.train.checkpoint_every = 5000
  c.train.ema_decay = 0.999
  c.eval.split = "testA,testB"
  c.eval.fd_num_samples = 0
  c.eval.feature_net = ""
  if "smoke" in args:
    base.smoke(c)
    c.data.image_size = 32
    c.data.batch_size = 2
    c.data.eval_batch_size = 4
    c.train.sample_every = 0
    c.model.gen_features = 8
    c.model.gen_blocks = 1
    c.model.disc_features = 8
    c.model.disc_layers = 2
    c.objective.pool_size = 4
    c.eval.fd_num_samples = 0
    c.eval.feature_net = ""
  return c
