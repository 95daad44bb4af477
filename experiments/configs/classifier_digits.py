"""The classifier family's default, the digit classifier behind `eval/fd_digits`: a small
CNN on 28x28 digits. classifier_mnist.py and mae_finetune_digits.py derive from it.
Args: `smoke` (bool: seconds)."""

import ml_collections

from experiments.configs import base


def get_config(arg=None):
  args = base.parse_arg(arg, smoke=False)
  c = base.get_base_config()
  c.family = "classifier"
  c.data.update(name="digits/28x28", batch_size=64, eval_batch_size=100)
  c.model = ml_collections.ConfigDict(dict(num_classes=10, channels=(16, 32), feature_dim=64))
  c.optim.update(learning_rate=2e-3, schedule="cosine")
  c.train.update(num_steps=1000, eval_every=500, sample_every=0, checkpoint_every=1000)
  c.train.update(keep_checkpoints=1, ema_decay=0.99)
  c.eval.fd_num_samples = 0
  return smoke(c) if args.smoke else c


def smoke(c):
  """`smoke` for any classifier config: seconds, and still no samples."""
  base.smoke(c)
  c.train.sample_every = 0
  c.eval.fd_num_samples = 0
  return c
