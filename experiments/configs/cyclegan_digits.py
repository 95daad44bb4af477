"""The CycleGAN family's default: the embedded two-domain digits (16x16), where domain B
is domain A's other half under a known invertible map T (inverted, shifted one source
pixel), so translation error is measured against ground truth. Minutes on 2 CPU cores.
cyclegan_horse2zebra.py and cyclegan_monet2photo.py derive from it.
Args: `smoke` (bool: seconds); `diffaug` (bool: DiffAugment translation,cutout of every
image the discriminators see); `ada` (bool, with `diffaug`: each of those transforms
applied with ADA's adaptive probability, one per discriminator); `r1` (bool: R1
gradient penalty, gamma 1, on their real inputs); `sn` (bool: spectral normalisation of
every conv of the discriminators, Miyato et al. 2018; it also removes their instance
norm, which is scale-invariant and would cancel the normalisation of every conv but the
output, see genjax/nn/cyclegan.py)."""

import ml_collections

from experiments.configs import base


def get_config(arg=None):
  args = base.parse_arg(arg, smoke=False, diffaug=False, ada=False, r1=False, sn=False)
  c = base.get_base_config()
  c.family = "cyclegan"
  c.data.update(name="digits_cycle/16x16", domains=("trainA", "trainB"))
  c.data.update(batch_size=4, eval_batch_size=50)
  c.model = ml_collections.ConfigDict(
    dict(
      gen_features=16,  # k of c7s1-k (64 in the paper)
      gen_blocks=2,  # ResNet blocks (9 at 256x256, 6 at 128x128 in the paper)
      disc_features=16,  # 64 in the paper
      disc_layers=2,  # stride-2 layers: 3 -> 70x70 patches; 2 -> 34x34 (whole 16x16)
      disc_spectral_norm=args.sn,  # spectral normalisation of every conv of D_X, D_Y
      disc_instance_norm=not args.sn,  # the paper's; SN-GAN's discriminators have none
    )
  )
  c.objective = ml_collections.ConfigDict(
    dict(
      gan_loss="lsgan",  # as the paper; any of genjax.losses.GAN_LOSSES
      lambda_cycle=10.0,
      lambda_identity=0.5,  # times lambda_cycle; 0 disables the identity loss
      pool_size=50,
      # DiffAugment of the discriminators' inputs: "" or some of color,translation,cutout
      augment="translation,cutout" if args.diffaug else "",
      r1_gamma=1.0 if args.r1 else 0.0,  # gradient penalty on real images
      r2_gamma=0.0,  # gradient penalty on fakes
      # ADA's adaptive probability of those transforms, one p per discriminator (0: off,
      # always applied); target, interval and speed as gan_digits.py's
      ada_target=0.6 if args.diffaug and args.ada else 0.0,
      ada_interval=4,
      ada_max_images=50_000,
    )
  )
  c.optim.update(name="adam", learning_rate=2e-4, b1=0.5, schedule="constant_then_linear")
  c.train.update(num_steps=2000, log_every=100, eval_every=500, checkpoint_every=500)
  c.train.sample_every = 0  # CycleGAN draws no unconditional samples
  c.train.ema_decay = 0.999  # kept in the state; evaluation uses the raw parameters
  c.eval.update(split="testA,testB", fd_num_samples=0, feature_net="")
  # G and F against the known map T, T^-1 (digits_cycle only; left out elsewhere)
  c.evals.translation_error = dict(type="translation_error", every=0)
  if args.smoke:
    smoke(c)
    c.data.update(batch_size=4, eval_batch_size=50)
    c.objective.pool_size = 6
  return c


def smoke(c):
  """`smoke` for any CycleGAN config: seconds, tiny networks."""
  base.smoke(c)
  c.train.sample_every = 0
  c.model.update(gen_features=8, gen_blocks=1, disc_features=8)
  return c
