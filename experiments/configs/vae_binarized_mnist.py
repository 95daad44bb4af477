"""The paper's setting on the fixed binarisation of MNIST (Larochelle & Murray 2011), the
dataset later VAE papers report log-likelihoods on: vae_mnist.py with that data.
Args as vae_mnist.py: `z` (int, default 20), `smoke` (bool)."""

from experiments.configs import base, vae_digits, vae_mnist


def get_config(arg=None):
  args = base.parse_arg(arg, **vae_mnist.ARGS)
  c = vae_mnist.get_config(dict(args, smoke=False))
  c.data.update(name="binarized_mnist", binarize="none")  # already binary
  return vae_digits.smoke(c) if args.smoke else c
