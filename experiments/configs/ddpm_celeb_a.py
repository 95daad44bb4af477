"""DDPM on CelebA at 64×64 (data.image_size: centre-crop, resize), the paper's CelebA-HQ
256×256 model scaled down: ch = 128 and its multipliers (1, 1, 2, 2, 4, 4) without the
last level, so 4 downsamplings take 64 to 4 as 5 took 256 to 8; attention at 16×16,
dropout 0, Adam 2e-5, batch 64, 500k steps, EMA 0.9999, random horizontal flips.

Needs TFDS's celeb_a prepared in data.data_dir. Args: `smoke` (a tiny U-Net, seconds).
"""

import ml_collections

from experiments.configs import base


def get_config(arg=None):
  args = base.parse_arg(arg, ("smoke",))
  c = base.get_base_config()
  c.family = "ddpm"
  c.data.name = "celeb_a"
  c.data.image_size = 64
  c.data.batch_size = 64
  c.data.eval_batch_size = 100
  c.model = ml_collections.ConfigDict(
    dict(
      ch=128,
      ch_mult=(1, 1, 2, 2, 4),
      num_res_blocks=2,
      attn_resolutions=(16,),
      dropout=0.0,
      norm_groups=32,
    )
  )
  c.objective = ml_collections.ConfigDict(
    dict(
      schedule="linear",
      num_timesteps=1000,
      beta_start=1e-4,
      beta_end=0.02,
      var_type="fixed_large",
      clip_x0=True,
      random_flip=True,
      vlb_chunk=10,
    )
  )
  c.optim.learning_rate = 2e-5
  c.optim.grad_clip_norm = 1.0
  c.train.num_steps = 500_000
  c.train.log_every = 1000
  c.train.eval_every = 500_000
  c.train.sample_every = 20_000
  c.train.checkpoint_every = 10_000
  c.train.ema_decay = 0.9999
  c.sample = ml_collections.ConfigDict(
    dict(num=64, batch_size=128, sampler="ddim", ddim_steps=100, ddim_eta=0.0, quality_num=1000)
  )
  c.eval.split = "test"
  c.eval.feature_net = ""
  c.eval.fd_num_samples = 0
  if "smoke" in args:
    base.smoke(c)
    c.data.image_size = 16
    c.model.ch = 8
    c.model.norm_groups = 4
    c.model.ch_mult = (1, 2)
    c.objective.num_timesteps = 20
    c.objective.vlb_chunk = 5
    c.sample.ddim_steps = 5
    c.sample.quality_num = 16
    c.eval.fd_num_samples = 0
  return c
