"""DCGAN (Radford et al. 2015) on MNIST at 28x28: the paper's recipe (project and
reshape, fractionally strided convs with BatchNorm and ReLU, tanh; a strided-conv D with
LeakyReLU 0.2 and no BatchNorm on its first layer; N(0, 0.02) init; Adam 2e-4, beta1 0.5;
minibatch 128; z ~ U(-1, 1)^100) at MNIST's size: 7x7x256 -> 14x14x128 -> 28x28x1.

Args: `smoke`; `saturating`, `lsgan`, `hinge`, `k2` as gan_digits.py.
Needs TFDS's mnist prepared in data.data_dir (`tfds build mnist --file_format=array_record`).
"""

from experiments.configs import base, gan_digits

VARIANTS = ("smoke", "saturating", "lsgan", "hinge", "k2")


def get_config(arg=None):
  args = base.parse_arg(arg, VARIANTS)
  c = gan_digits.get_config(",".join(sorted(args - {"smoke"})) or None)
  c.data.name = "mnist"
  c.data.train_split = "train[:50000]"  # the rest choose the Parzen sigma
  c.data.batch_size = 128
  c.model.architecture = "dcgan"
  c.model.g_channels = (256, 128)
  c.model.d_channels = (64, 128)
  c.train.num_steps = 50_000  # about 128 epochs of 50k images
  c.train.log_every = 200
  c.train.eval_every = 10_000
  c.train.sample_every = 5000
  c.train.checkpoint_every = 5000
  c.train.ema_decay = 0.0  # the paper averages no parameters
  c.eval.fd_num_samples = 10_000
  c.eval.feature_net = "classifier_mnist"
  c.eval.parzen_valid_split = "train[50000:]"  # MNIST has no validation split: held out
  if "smoke" in args:
    base.smoke(c)
    gan_digits.smoke_figure_metrics(c)
  return c
