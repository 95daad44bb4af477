"""The paper's CIFAR-10 setting (Ho et al. 2020, Section 4 and Appendix B): U-Net with
ch = 128, multipliers (1, 2, 2, 2), 2 residual blocks per resolution, self-attention at
16×16, dropout 0.1 (35.7M parameters); T = 1000, linear β 1e-4 → 0.02, L_simple; Adam
2e-4 with 5000 warm-up steps, gradient clipping at norm 1, batch 128, 800k steps, EMA
0.9999, random horizontal flips.

The full bound over the 10,000 test images costs 10^7 network evaluations: it runs once,
at the end. No CIFAR-10 feature network exists here, so no Fréchet distance (set
eval.feature_net to one to have it). Needs TFDS's cifar10 prepared in data.data_dir.
Args: `smoke` (a tiny U-Net, seconds).
"""

import ml_collections

from experiments.configs import base


def get_config(arg=None):
  args = base.parse_arg(arg, ("smoke",))
  c = base.get_base_config()
  c.family = "ddpm"
  c.data.name = "cifar10"
  c.data.batch_size = 128
  c.data.eval_batch_size = 100
  c.model = ml_collections.ConfigDict(
    dict(
      ch=128,
      ch_mult=(1, 2, 2, 2),
      num_res_blocks=2,
      attn_resolutions=(16,),
      dropout=0.1,
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
  c.optim.learning_rate = 2e-4
  c.optim.warmup_steps = 5000
  c.optim.grad_clip_norm = 1.0
  c.train.num_steps = 800_000
  c.train.log_every = 1000
  c.train.eval_every = 800_000
  c.train.sample_every = 20_000
  c.train.checkpoint_every = 10_000
  c.train.ema_decay = 0.9999
  c.sample = ml_collections.ConfigDict(
    dict(num=64, batch_size=256, sampler="ddim", ddim_steps=100, ddim_eta=0.0, quality_num=10_000)
  )
  c.eval.feature_net = ""
  c.eval.fd_num_samples = 0
  if "smoke" in args:
    base.smoke(c)
    c.model.ch = 8
    c.model.norm_groups = 4
    c.model.ch_mult = (1, 2)
    c.objective.num_timesteps = 20
    c.objective.vlb_chunk = 5
    c.optim.warmup_steps = 0
    c.sample.ddim_steps = 5
    c.sample.quality_num = 16
    c.eval.fd_num_samples = 0
  return c
