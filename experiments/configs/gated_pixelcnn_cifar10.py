"""Gated PixelCNN on CIFAR-10 (van den Oord et al. 2016b, 3.03 bits/dim): 15 gated layers
with vertical and horizontal stacks, 256-way softmax, channel-masked gates. Args as
pixelcnn_digits.py (`conditional` conditions on the CIFAR-10 class)."""

from experiments.configs import pixelcnn_binarized_mnist


def get_config(arg=None):
  c = pixelcnn_binarized_mnist.paper_config(
    "gated_pixelcnn",
    "cifar10",
    arg,
    hidden=192,
    num_layers=15,
    lr=1e-3,
    num_steps=200000,
    batch_size=16,
  )
  if "smoke" not in (arg or ""):
    c.model.head_hidden = 1024
  return c
