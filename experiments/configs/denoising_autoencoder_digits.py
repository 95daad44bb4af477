"""Denoising autoencoder (Vincent et al. 2008) on the digits = autoencoder_digits.py fed
inputs with 25 % of the pixels masked to the background (drawn in the jitted step from
the step key), trained to reconstruct the clean digit. eval/rec_error_corrupted uses the
same corruption for every variant, so this run and autoencoder_digits.py compare on the
same noisy test images. Args: `smoke` (bool); `gaussian` (bool: train on additive
N(0, 0.5²) noise instead).
"""

from experiments.configs import autoencoder_digits, base


def get_config(arg=None):
  args = base.parse_arg(arg, smoke=False, gaussian=False)
  c = autoencoder_digits.get_config(dict(smoke=args.smoke))
  if args.gaussian:
    c.objective.update(corruption="gaussian", corruption_level=0.5)
  else:
    c.objective.update(corruption="masking", corruption_level=0.25)
  return c
