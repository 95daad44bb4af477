"""Diagonal BiLSTM on binarized MNIST, PixelRNN's Table 4 setting (79.20 nats per image):
7 layers of h = 16 with residual connections and a Bernoulli output. Args as
pixelcnn_digits.py."""

from experiments.configs import pixelcnn_binarized_mnist


def get_config(arg=None):
  return pixelcnn_binarized_mnist.paper_config(
    "diagonal_bilstm", "binarized_mnist", arg, hidden=16, num_layers=7
  )
