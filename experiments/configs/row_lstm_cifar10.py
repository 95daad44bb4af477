"""Row LSTM on CIFAR-10, PixelRNN's Table 5 setting (3.07 bits/dim): 12 layers, h = 128
(here 129, a multiple of the 3 colour groups), 256-way softmax with channel-masked
gates, residual connections. Args as pixelcnn_digits.py."""

from experiments.configs import pixelcnn_binarized_mnist


def get_config(arg=None):
  c = pixelcnn_binarized_mnist.paper_config(
    "row_lstm", "cifar10", arg, hidden=129, num_layers=12, lr=1e-3, num_steps=200000, batch_size=16
  )
  if "smoke" not in (arg or ""):
    c.model.head_hidden = 1024
  return c
