"""DCGAN (Radford et al. 2015) on the embedded digits, 16x16 by default.

G: z (100, uniform) -> project to 4x4x128, BatchNorm, ReLU -> 4x4 stride-2 fractionally
strided conv to 8x8x64, BatchNorm, ReLU -> to 16x16x1, tanh. D: 4x4 stride-2 convs
64 (no BatchNorm) and 128 (BatchNorm), LeakyReLU 0.2 -> one logit. N(0, 0.02) init,
Adam 2e-4 with beta1 0.5 for both networks, as the paper.

Args: `smoke` (seconds); `28x28` trains on digits/28x28 (7x7 projection; about 4x the
compute per step, measured 0.40 vs 0.09 CPU-seconds); `saturating`, `lsgan`, `hinge`,
`k2` and the stabilisers `diffaug`, `r1`, `sn`, `ttur`, `stable` as in gan_digits.py
(`sn` also removes D's BatchNorm).
"""

from experiments.configs import base, gan_digits

VARIANTS = ("smoke", "28x28", "saturating", "lsgan", "hinge", "k2") + gan_digits.STABILISERS


def get_config(arg=None):
  args = base.parse_arg(arg, VARIANTS)
  c = gan_digits.get_config(",".join(sorted(args - {"28x28", "smoke"})) or None)
  c.data.name = "digits/28x28" if "28x28" in args else "digits/16x16"
  c.model.architecture = "dcgan"
  c.model.g_channels = (128, 64)
  c.model.d_channels = (64, 128)
  # SN-GAN's D has no BatchNorm, and a gradient penalty is per example only without it.
  c.model.d_batch_norm = not c.model.d_spectral_norm
  c.train.num_steps = 3000
  c.train.eval_every = 1000
  c.train.sample_every = 500
  c.train.checkpoint_every = 1000
  # The paper uses no parameter averaging, and BatchNorm's running statistics belong to
  # the raw parameters: sample from those.
  c.train.ema_decay = 0.0
  if "smoke" in args:
    base.smoke(c)
    gan_digits.smoke_figure_metrics(c)
  return c
