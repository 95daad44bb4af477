"""PixelCNN on CIFAR-10 with a 256-way softmax per sub-pixel and R <= G <= B channel
masking, PixelRNN's Table 5 setting (3.14 bits/dim): a 7x7 mask-A convolution, 15
residual blocks of 3x3 mask-B convolutions, h = 128 (a 256-channel residual stream).
Args as pixelcnn_digits.py."""

from experiments.configs import pixelcnn_binarized_mnist


def get_config(arg=None):
  c = pixelcnn_binarized_mnist.paper_config(
    "pixelcnn", "cifar10", arg, hidden=128, num_layers=15, lr=1e-3, num_steps=200000, batch_size=16
  )
  if "smoke" not in (arg or ""):
    c.model.head_hidden = 1024
  return c
