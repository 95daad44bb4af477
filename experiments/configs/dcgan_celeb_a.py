"""DCGAN (Radford et al. 2015) on CelebA faces at 64x64, the paper's architecture: project
z ~ U(-1, 1)^100 to 4x4x1024, fractionally strided 4x4 convs to 8x8x512, 16x16x256,
32x32x128 and a 64x64x3 tanh image (BatchNorm + ReLU between, none on the output); D
strided convs 64 (no BatchNorm), 128, 256, 512 with LeakyReLU 0.2 to one logit.
N(0, 0.02) init, Adam 2e-4 with beta1 0.5, minibatch 128. Images are centre-cropped to
a square and resized to 64x64 (data.image_size).

Args (all bool): `smoke`; `saturating`, `lsgan`, `hinge`, `k2` as gan_digits.py.
Needs TFDS's celeb_a prepared in data.data_dir (its files need a manual download).
"""

from experiments.configs import base, gan_digits, gan_mnist


def get_config(arg=None):
  args = base.parse_arg(arg, **gan_mnist.ARGS)
  c = gan_digits.get_config(dict(args, smoke=False, paper=True))
  c.data.update(name="celeb_a", image_size=64, batch_size=128)
  c.model.update(architecture="dcgan", g_channels=(1024, 512, 256, 128))
  c.model.d_channels = (64, 128, 256, 512)
  c.eval.update(feature_net="", fd_num_samples=0)  # no face feature network ships with genjax
  c.eval.parzen_samples = 2000
  return gan_mnist.paper_scale(c, args, num_steps=50_000, sample_every=2500)  # ~30 epochs
