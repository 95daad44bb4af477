"""DDPM on the embedded digits at their native 8×8: a small U-Net of the paper's design,
T = 1000, the linear schedule, L_simple. 8×8 rather than 16×16 because the full bound
and the T-step samplers run the network T times per image: at 16×16 that costs about
4× more, which this shared 2-core CPU cannot afford in a few minutes. Periodic sample
quality uses DDIM with 50 steps (η = 0)
so that sampling does not dominate training; figures compare every sampler.

Args: `smoke` (seconds), `cosine` (Nichol & Dhariwal's schedule instead of linear).
"""

import ml_collections

from experiments.configs import base


def get_config(arg=None):
  args = base.parse_arg(arg, ("smoke", "cosine"))
  c = base.get_base_config()
  c.family = "ddpm"
  c.data.name = "digits"
  c.data.batch_size = 64
  c.data.eval_batch_size = 100
  c.model = ml_collections.ConfigDict(
    dict(
      ch=16,
      ch_mult=(1, 2),
      num_res_blocks=2,
      attn_resolutions=(4,),
      dropout=0.1,
      norm_groups=8,
    )
  )
  c.objective = ml_collections.ConfigDict(
    dict(
      schedule="cosine" if "cosine" in args else "linear",
      num_timesteps=1000,
      beta_start=1e-4,  # linear schedule's ends, as the paper
      beta_end=0.02,
      var_type="fixed_large",  # Σ_θ = β_t (fixed_large) or β̃_t (fixed_small)
      clip_x0=True,  # clip x̂_0 to [-1, 1] when sampling and in the bound
      random_flip=False,  # digits are not mirror-symmetric
      vlb_chunk=10,  # timesteps evaluated at once by the bound's lax.map
    )
  )
  c.optim.learning_rate = 1e-3
  c.optim.warmup_steps = 200
  c.optim.grad_clip_norm = 1.0
  c.train.num_steps = 3000
  c.train.log_every = 200
  c.train.eval_every = 3000
  c.train.sample_every = 1500
  c.train.checkpoint_every = 500
  c.train.ema_decay = 0.999
  c.sample = ml_collections.ConfigDict(
    dict(
      num=64,
      batch_size=300,
      sampler="ddim",  # what the loop's samples and periodic FD use: ancestral | ddim
      ddim_steps=50,
      ddim_eta=0.0,
      quality_num=100,  # samples per row of figures/steps_vs_quality (T-step rows cost most)
    )
  )
  if "smoke" in args:
    base.smoke(c)
    c.model.ch = 8
    c.model.norm_groups = 4
    c.objective.num_timesteps = 20
    c.objective.vlb_chunk = 5
    c.optim.warmup_steps = 0
    c.sample.ddim_steps = 5
    c.sample.quality_num = 16
  return c
