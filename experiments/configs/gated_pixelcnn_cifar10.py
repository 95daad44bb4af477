"""Gated PixelCNN on CIFAR-10 (van den Oord et al. 2016b, 3.03 bits/dim): 15 gated layers
with vertical and horizontal stacks, 256-way softmax, channel-masked gates. Args as
pixelcnn_digits.py (`conditional` conditions on the CIFAR-10 class)."""

from experiments.configs import pixelcnn_cifar10


def get_config(arg=None):
  return pixelcnn_cifar10.cifar10_config("gated_pixelcnn", arg, hidden=192, num_layers=15)
