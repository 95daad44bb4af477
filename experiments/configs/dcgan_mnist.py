"""DCGAN (Radford et al. 2015) on MNIST at 28x28: the paper's recipe (project and
reshape, fractionally strided convs with BatchNorm and ReLU, tanh; a strided-conv D with
LeakyReLU 0.2 and no BatchNorm on its first layer; N(0, 0.02) init; Adam 2e-4, beta1 0.5;
minibatch 128; z ~ U(-1, 1)^100) at MNIST's size: 7x7x256 -> 14x14x128 -> 28x28x1.

Args (all bool): `smoke`; `saturating`, `lsgan`, `hinge`, `k2` as gan_digits.py.
Needs TFDS's mnist prepared in data.data_dir (`tfds build mnist --file_format=array_record`).
"""

from experiments.configs import base, gan_digits, gan_mnist


def get_config(arg=None):
  args = base.parse_arg(arg, **gan_mnist.ARGS)
  c = gan_digits.get_config(dict(args, smoke=False, paper=True))
  c.data.update(name="mnist", train_split="train[:50000]", batch_size=128)  # the rest: sigma
  c.model.update(architecture="dcgan", g_channels=(256, 128), d_channels=(64, 128))
  c.eval.update(fd_num_samples=10_000, feature_net="classifier_mnist")
  c.eval.parzen_valid_split = "train[50000:]"  # MNIST has no validation split: held out
  return gan_mnist.paper_scale(c, args, num_steps=50_000)  # about 128 epochs of 50k images
