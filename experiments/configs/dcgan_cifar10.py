"""DCGAN (Radford et al. 2015) on CIFAR-10 at 32x32: project z ~ U(-1, 1)^100 to 4x4x512,
fractionally strided 4x4 convs to 8x8x256, 16x16x128 and a 32x32x3 tanh image; D strided
convs 64 (no BatchNorm), 128, 256 with LeakyReLU 0.2 to one logit. N(0, 0.02) init,
Adam 2e-4 with beta1 0.5, minibatch 128, as the paper.

Args: `smoke`; `saturating`, `lsgan`, `hinge`, `k2` as gan_digits.py.
Needs TFDS's cifar10 prepared in data.data_dir. Sample quality is measured with the
digits-style classifier only when one is configured (eval.feature_net); none is by default.
"""

from experiments.configs import base, gan_digits

VARIANTS = ("smoke", "saturating", "lsgan", "hinge", "k2")


def get_config(arg=None):
  args = base.parse_arg(arg, VARIANTS)
  c = gan_digits.get_config(",".join(sorted(args - {"smoke"})) or None)
  c.data.name = "cifar10"
  c.data.train_split = "train[:45000]"  # the rest choose the Parzen sigma
  c.data.batch_size = 128
  c.model.architecture = "dcgan"
  c.model.g_channels = (512, 256, 128)
  c.model.d_channels = (64, 128, 256)
  c.train.num_steps = 100_000
  c.train.log_every = 200
  c.train.eval_every = 10_000
  c.train.sample_every = 5000
  c.train.checkpoint_every = 5000
  c.train.ema_decay = 0.0
  # No CIFAR-10 feature network ships with genjax: no Fréchet distance, no mode coverage.
  c.eval.feature_net = ""
  c.eval.fd_num_samples = 0
  c.eval.parzen_valid_split = "train[45000:]"  # CIFAR-10 has no validation split: held out
  if "smoke" in args:
    base.smoke(c)
    gan_digits.smoke_figure_metrics(c)
  return c
