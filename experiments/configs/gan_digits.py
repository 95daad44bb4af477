"""The MLP GAN (Goodfellow et al. 2014) on the embedded digits (28x28), stabilised for
small data by default.

G: z (100, uniform) -> 256 -> 512 ReLU -> tanh image; D: 512 -> 256 LeakyReLU(0.2) ->
one logit. Non-saturating G loss, one D step per G step, Adam 2e-4, beta1 0.5 for both.

D sees 1,347 training digits; left alone it memorises them within a few thousand steps
and G's samples stay grey blobs (Fréchet distance 288 at 10,000 steps, against 104 for
the VAE at 28x28). So by default four stabilisers are on (experiments/gan.py), each an
argument that can be switched off (`r1=false`): `diffaug` (DiffAugment
color,translation,cutout of every image D sees, Zhao et al. 2020), `r1` (R1 gradient
penalty on real images, gamma 1, Mescheder et al. 2018), `sn` (spectral normalisation
of D's layers, Miyato et al. 2018; in DCGAN it also removes D's BatchNorm, as SN-GAN's D
has none) and `ttur` (two time-scale learning rates, Heusel et al. 2017: G 1e-4, D 4e-4).
Measured at 10,000 steps, one seed: the first three give Fréchet distance 77.1, with
`ttur` 59.9 (10 of 10 classes).

Args: `smoke` (seconds); `paper` (the paper's setting: every stabiliser off, the run that
shows the instability and the memorising D); `saturating` reproduces the failure the
paper warns about: G minimises log(1 - D(G(z))), whose gradient vanishes while D rejects
the early fakes (watch train/g_grad_norm); `lsgan`, `hinge` switch both losses; `maxout`
uses the paper's maxout D with dropout; `k2` makes two D steps per G step; `ada` (off by
default) applies the DiffAugment transforms with ADA's adaptive probability (Karras et
al. 2020) instead of always.
"""

import ml_collections

from experiments.configs import base

ARGS = dict(
  smoke=False,
  paper=False,
  saturating=False,
  lsgan=False,
  hinge=False,
  maxout=False,
  k2=False,
  diffaug=True,
  r1=True,
  sn=True,
  ttur=True,
  ada=False,
)
STABILISERS = ("diffaug", "r1", "sn", "ttur", "ada")


def optim_disc(c):
  """D's optimiser section: the same fields as `optim` (a copy to be changed on its own)."""
  return ml_collections.ConfigDict(c.optim.to_dict())


def get_config(arg=None):
  args = stabilisers(base.parse_arg(arg, **ARGS))
  c = base.get_base_config()
  c.family = "gan"
  c.data.name = "digits/28x28"
  c.data.batch_size = 64
  c.data.eval_batch_size = 100
  c.model = ml_collections.ConfigDict(
    dict(
      architecture="mlp",  # mlp | dcgan
      latent_dim=100,
      g_hidden=(256, 512),
      g_activation="relu",
      d_hidden=(512, 256),
      d_activation="leaky_relu",
      d_maxout_pieces=5 if "maxout" in args else 1,
      d_dropout=0.5 if "maxout" in args else 0.0,
      g_channels=(128, 64),  # dcgan only
      d_channels=(64, 128),  # dcgan only
      bn_momentum=0.9,  # dcgan only
      d_spectral_norm="sn" in args,  # spectral normalisation of D's layers
      d_batch_norm=True,  # dcgan only: BatchNorm in D (after its first conv)
    )
  )
  loss = "lsgan" if "lsgan" in args else "hinge" if "hinge" in args else None
  c.objective = ml_collections.ConfigDict(
    dict(
      generator_loss=loss or ("minimax" if "saturating" in args else "non_saturating"),
      discriminator_loss=loss or "minimax",
      d_steps=2 if "k2" in args else 1,
      latent_prior="uniform",  # uniform (both papers) | normal
      # DiffAugment of D's inputs: "" or some of color,translation,cutout (genjax.augment)
      augment="color,translation,cutout" if "diffaug" in args else "",
      r1_gamma=1.0 if "r1" in args else 0.0,  # gradient penalty on real images
      r2_gamma=0.0,  # gradient penalty on fakes
      # ADA's adaptive probability of the augment transforms (0: off, always applied);
      # the paper's target r = E[sign D(real)] of 0.6 and interval of 4 steps. p may go
      # from 0 to 1 in 50,000 real images (~800 steps at batch 64), not the paper's
      # 500,000: a digits run sees 100,000-600,000 images in all.
      ada_target=0.6 if {"ada", "diffaug"} <= args else 0.0,  # p of DiffAugment's transforms
      ada_interval=4,
      ada_max_images=50_000,
    )
  )
  c.optim.learning_rate = 2e-4
  c.optim.b1 = 0.5
  c.optim_disc = optim_disc(c)
  if "ttur" in args:  # config.optim is G's optimiser, config.optim_disc D's
    c.optim.learning_rate, c.optim_disc.learning_rate = 1e-4, 4e-4
  c.train.num_steps = 10_000
  c.train.log_every = 100
  c.train.eval_every = 2000
  c.train.sample_every = 1000
  c.train.checkpoint_every = 2000
  c.train.ema_decay = 0.999
  c.sample.num = 100
  c.eval.fd_num_samples = 300
  add_figure_metrics(c)
  if "smoke" in args:
    base.smoke(c)
    smoke_figure_metrics(c)
  return c


def stabilisers(args):
  """The arguments as a set of the names that are on; `paper` switches every stabiliser
  off."""
  on = {k for k, v in args.items() if v is True}
  return on - set(STABILISERS) if "paper" in on else on


def add_figure_metrics(c):
  """The Parzen-window evaluator (Goodfellow et al.'s Table 1) on finished workdirs
  (launch.reproduce), its eval fields, and those of mode coverage and the figures."""
  # beside it, the training set as the samples; sample_quality gives mode coverage
  c.evals.parzen = dict(type="parzen", every=-1, train_set=True)
  c.eval.parzen_samples = 10_000  # generated samples in the Parzen window (the paper: 10k)
  # bandwidths (on pixels in [0, 1]) tried on parzen_valid_split; the best is used on test
  c.eval.parzen_sigmas = (0.05, 0.08, 0.1, 0.13, 0.16, 0.2, 0.25, 0.3, 0.4)
  c.eval.parzen_valid_split = "validation"
  c.eval.mode_samples = 2000  # samples classified for the latent arithmetic figure
  c.eval.mode_min_fraction = 0.01  # a class is covered when this share of samples is in it


def smoke_figure_metrics(c):
  c.eval.parzen_samples = 200
  c.eval.mode_samples = 200
