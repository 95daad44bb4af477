"""Deep convolutional autoencoder on the digits: stride-2 convolutions 28→14→7 (32, 64
channels) to a 20-d linear code, and the mirrored decoder of transposed convolutions
(computed in their exact sub-pixel form, genjax/nn/upsample.py). Args: `smoke`.
"""

from experiments.configs import autoencoder_digits


def get_config(arg=None):
  c = autoencoder_digits.get_config(arg)
  c.model.backbone = "conv"
  if not c.train.num_steps <= 50:  # a conv step costs several MLP steps on a CPU
    c.train.num_steps = 2000
    c.train.eval_every = c.train.sample_every = c.train.checkpoint_every = 1000
  return c
