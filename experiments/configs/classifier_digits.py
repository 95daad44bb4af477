"""The digit classifier behind `eval/fd_digits`: a small CNN on 28x28 digits."""

import ml_collections

from experiments.configs import base


def get_config(arg=None):
  args = base.parse_arg(arg)
  c = base.get_base_config()
  c.family = "classifier"
  c.data.name = "digits/28x28"
  c.data.batch_size = 64
  c.data.eval_batch_size = 100
  c.model = ml_collections.ConfigDict(dict(num_classes=10, channels=(16, 32), feature_dim=64))
  c.optim.learning_rate = 2e-3
  c.optim.schedule = "cosine"
  c.train.num_steps = 1000
  c.train.eval_every = 500
  c.train.sample_every = 0
  c.train.checkpoint_every = 1000
  c.train.keep_checkpoints = 1
  c.train.ema_decay = 0.99
  c.eval.fd_num_samples = 0
  if "smoke" in args:
    base.smoke(c)
    c.train.sample_every = 0
    c.eval.fd_num_samples = 0
  return c
