"""The classifier behind `eval/fd_mnist`, for families trained on MNIST:
classifier_digits.py on mnist, with more steps of a larger batch. Args: `smoke` (bool)."""

from experiments.configs import base, classifier_digits


def get_config(arg=None):
  args = base.parse_arg(arg, smoke=False)
  c = classifier_digits.get_config()
  c.data.update(name="mnist", batch_size=128)
  c.train.update(num_steps=5000, eval_every=1000, checkpoint_every=5000)
  return classifier_digits.smoke(c) if args.smoke else c
