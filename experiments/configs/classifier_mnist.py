"""The classifier behind `eval/fd_mnist`, for families trained on MNIST."""

from experiments.configs import classifier_digits


def get_config(arg=None):
  c = classifier_digits.get_config(arg)
  c.data.name = "mnist"
  if "smoke" not in (arg or ""):
    c.data.batch_size = 128
    c.train.num_steps = 5000
    c.train.eval_every = 1000
    c.train.checkpoint_every = 5000
  return c
