"""DCGAN (Radford et al. 2015) on the embedded digits, 16x16 by default.

G: z (100, uniform) -> project to 4x4x128, BatchNorm, ReLU -> 4x4 stride-2 fractionally
strided conv to 8x8x64, BatchNorm, ReLU -> to 16x16x1, tanh. D: 4x4 stride-2 convs
64 (no BatchNorm) and 128 (BatchNorm), LeakyReLU 0.2 -> one logit. N(0, 0.02) init,
Adam 2e-4 with beta1 0.5 for both networks, as the paper.

Of gan_digits.py's stabilisers `diffaug` and `ada` are on by default: DiffAugment's
transforms, each applied with ADA's adaptive probability. Measured at 3,000 steps on
16x16, one seed each, Fréchet distance (the VAE at 16x16: 78.3) is 67.9 for the paper's
setting, 61.1 with DiffAugment and ADA (seeds 1, 2: 65.4, 61.6; p settles near 0.5; 10
of 10 classes; about 4 minutes on one core), 62.2 with DiffAugment always on (seeds 1,
2: 67.2, 68.6), 93.6 with
DiffAugment and `ttur` (G's lower
learning rate is slower to start), and 133.6 with DiffAugment, `r1` and `sn` (R1's double
backprop through the convs and D without BatchNorm make each step about 5x slower on CPU,
and learning slower per step). `sn` also removes D's BatchNorm: SN-GAN's D has none, and
R1 is a per-example penalty only without it. `paper` switches every stabiliser off.
ADA matters most at 8x8 (launch.compare's 90 s runs, 3 seeds): DiffAugment always on
gives 325.1 ± 180.7, a 4x4 cutout hiding half of every digit D sees; with ADA 60.6 ± 5.0,
beside the paper's setting's 58.2 ± 0.8.

Args: `smoke` (seconds); `28x28` trains on digits/28x28 (7x7 projection; about 4x the
compute per step, measured 0.40 vs 0.09 CPU-seconds); `paper`, `saturating`, `lsgan`,
`hinge`, `k2`, `diffaug`, `r1`, `sn`, `ttur`, `ada` as in gan_digits.py.
"""

from experiments.configs import base, gan_digits

ARGS = {
  **{k: v for k, v in gan_digits.ARGS.items() if k != "maxout"},
  "r1": False,
  "sn": False,
  "ttur": False,
  "ada": True,
  "28x28": False,
}


def get_config(arg=None):
  args = base.parse_arg(arg, **ARGS)
  c = gan_digits.get_config({k: v for k, v in args.items() if k not in ("28x28", "smoke")})
  c.data.name = "digits/28x28" if args["28x28"] else "digits/16x16"
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
  if args.smoke:
    base.smoke(c)
    gan_digits.smoke_figure_metrics(c)
  return c
