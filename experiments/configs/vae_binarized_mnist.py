"""The paper's setting on the fixed binarisation of MNIST (Larochelle & Murray 2011), the
dataset later VAE papers report log-likelihoods on. Same args as vae_mnist.py."""

from experiments.configs import vae_mnist


def get_config(arg=None):
  c = vae_mnist.get_config(arg)
  c.data.name = "binarized_mnist"
  c.data.binarize = "none"  # already binary
  return c
