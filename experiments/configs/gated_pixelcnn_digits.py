"""Gated PixelCNN on 28x28 binarised digits (see pixelcnn_digits.py for why this data).
Args as pixelcnn_digits.py; `conditional` conditions on the digit class."""

from experiments.configs import pixelcnn_digits


def get_config(arg=None):
  return pixelcnn_digits.autoregressive_config("gated_pixelcnn", arg)
