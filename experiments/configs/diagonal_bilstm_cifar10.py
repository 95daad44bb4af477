"""Diagonal BiLSTM on CIFAR-10, PixelRNN's Table 5 setting (3.00 bits/dim): 12 layers,
h = 128 (here 129, a multiple of the 3 colour groups), 256-way softmax with
channel-masked gates, residual connections. Args as pixelcnn_digits.py."""

from experiments.configs import pixelcnn_cifar10


def get_config(arg=None):
  return pixelcnn_cifar10.cifar10_config("diagonal_bilstm", arg, hidden=129, num_layers=12)
