"""DDPM on CelebA at 64×64 (data.image_size: centre-crop, resize) = ddpm_cifar10.py with
the paper's CelebA-HQ 256×256 model scaled down: ch = 128 and its multipliers
(1, 1, 2, 2, 4, 4) without the last level, so 4 downsamplings take 64 to 4 as 5 took 256
to 8; attention at 16×16, dropout 0, Adam 2e-5 without warm-up, batch 64, 500k steps,
EMA 0.9999, random horizontal flips.

Needs TFDS's celeb_a prepared in data.data_dir. Args: `smoke` (bool: a tiny U-Net,
seconds).
"""

from experiments.configs import base, ddpm_cifar10, ddpm_digits


def get_config(arg=None):
  args = base.parse_arg(arg, smoke=False)
  c = ddpm_cifar10.get_config()
  c.data.update(name="celeb_a", image_size=64, batch_size=64)
  c.model.update(ch_mult=(1, 1, 2, 2, 4), dropout=0.0)
  c.optim.update(learning_rate=2e-5, warmup_steps=0)
  c.train.update(num_steps=500_000, eval_every=500_000)
  c.sample.update(batch_size=128, quality_num=1000)
  if args.smoke:
    ddpm_digits.smoke(c)
    c.data.image_size = 16
    c.eval.fd_num_samples = 0
  return c
