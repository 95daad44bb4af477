"""Row LSTM on 28x28 binarised digits (see pixelcnn_digits.py for why this data).
Args as pixelcnn_digits.py."""

from experiments.configs import pixelcnn_digits


def get_config(arg=None):
  return pixelcnn_digits.autoregressive_config("row_lstm", arg, steps_per_dispatch=1, num_layers=2)
