"""DCGAN (Radford et al. 2015) on CIFAR-10 at 32x32: project z ~ U(-1, 1)^100 to 4x4x512,
fractionally strided 4x4 convs to 8x8x256, 16x16x128 and a 32x32x3 tanh image; D strided
convs 64 (no BatchNorm), 128, 256 with LeakyReLU 0.2 to one logit. N(0, 0.02) init,
Adam 2e-4 with beta1 0.5, minibatch 128, as the paper.

Args (all bool): `smoke`; `saturating`, `lsgan`, `hinge`, `k2` as gan_digits.py.
Needs TFDS's cifar10 prepared in data.data_dir. Sample quality is measured with the
digits-style classifier only when one is configured (eval.feature_net); none is by default.
"""

from experiments.configs import base, gan_digits, gan_mnist


def get_config(arg=None):
  args = base.parse_arg(arg, **gan_mnist.ARGS)
  c = gan_digits.get_config(dict(args, smoke=False, paper=True))
  c.data.update(name="cifar10", train_split="train[:45000]", batch_size=128)  # rest: sigma
  c.model.update(architecture="dcgan", g_channels=(512, 256, 128), d_channels=(64, 128, 256))
  # No CIFAR-10 feature network ships with genjax: no Fréchet distance, no mode coverage.
  c.eval.update(feature_net="", fd_num_samples=0)
  c.eval.parzen_valid_split = "train[45000:]"  # CIFAR-10 has no validation split: held out
  return gan_mnist.paper_scale(c, args, num_steps=100_000)
