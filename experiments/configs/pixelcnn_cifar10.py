"""PixelCNN on CIFAR-10 with a 256-way softmax per sub-pixel and R <= G <= B channel
masking, PixelRNN's Table 5 setting (3.14 bits/dim): a 7x7 mask-A convolution, 15
residual blocks of 3x3 mask-B convolutions, h = 128 (here 129, a multiple of the 3
colour groups; a 258-channel residual stream).
Args as pixelcnn_digits.py."""

from experiments.configs import pixelcnn_binarized_mnist


def get_config(arg=None):
  return cifar10_config("pixelcnn", arg, hidden=129, num_layers=15)


def cifar10_config(arch: str, arg=None, **model):
  """PixelRNN's CIFAR-10 scale (a 1024-unit output head, batch 16, 200k steps) for model
  `arch` with the `model` fields changed: the other *_cifar10.py configs of the family."""
  return pixelcnn_binarized_mnist.paper_config(
    arch, "cifar10", arg, head_hidden=1024, num_steps=200_000, batch_size=16, **model
  )
