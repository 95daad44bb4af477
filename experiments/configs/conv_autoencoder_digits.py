"""Deep convolutional autoencoder on the digits = autoencoder_digits.py with stride-2
convolutions 28→14→7 (32, 64 channels) to a 20-d linear code, and the mirrored decoder of
transposed convolutions (computed in their exact sub-pixel form, genjax/nn/upsample.py);
fewer steps, as a conv step costs several MLP steps on a CPU. Args: `smoke` (bool).
"""

from experiments.configs import autoencoder_digits, base


def get_config(arg=None):
  args = base.parse_arg(arg, smoke=False)
  c = autoencoder_digits.get_config()
  c.model.backbone = "conv"
  c.train.update(num_steps=2000, eval_every=1000, sample_every=1000, checkpoint_every=1000)
  return base.smoke(c) if args.smoke else c
