"""Goodfellow et al. (2014)'s MNIST GAN: G an MLP of two 1200-unit ReLU layers to a tanh
image (the paper's sigmoid, moved to [-1, 1]) from z ~ U(-1, 1)^100; D two maxout layers
of 240 units x 5 pieces with dropout 0.5 before every layer (the paper's code keeps 0.8
of the inputs) to one logit; minibatch 100, k = 1 D step per G step. The paper trained
with SGD and momentum; here both networks use Adam 2e-4, beta1 0.5 (Radford et al.'s
settings, those of the digits runs). Not trained on this machine (no MNIST here).
Training reads train[:50000]; the Parzen estimate uses 10k samples and sigma chosen on the
held-out train[50000:] images, as Table 1 (MNIST: 225 ± 2 nats).

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
  c.data.batch_size = 100
  c.model.g_hidden = (1200, 1200)
  c.model.d_hidden = (240, 240)
  c.model.d_maxout_pieces = 5
  c.model.d_dropout = 0.5
  c.train.num_steps = 100_000
  c.train.log_every = 200
  c.train.eval_every = 10_000
  c.train.sample_every = 5000
  c.train.checkpoint_every = 5000
  c.train.ema_decay = 0.0
  c.eval.fd_num_samples = 10_000
  c.eval.feature_net = "classifier_mnist"
  c.eval.parzen_valid_split = "train[50000:]"
  if "smoke" in args:
    base.smoke(c)
    gan_digits.smoke_figure_metrics(c)
  return c
