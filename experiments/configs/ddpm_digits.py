"""The DDPM family's default: the embedded digits at their native 8×8, a small U-Net of
the paper's design, T = 1000, the linear schedule, L_simple. 8×8 rather than 16×16
because the full bound and the T-step samplers run the network T times per image: at
16×16 that costs about 4× more, which this shared 2-core CPU cannot afford in a few
minutes. Periodic sample quality uses DDIM with 50 steps (η = 0) so that sampling does
not dominate training; figures compare every sampler. ddpm_cifar10.py and
ddpm_celeb_a.py derive from it.

Args: `smoke` (bool: seconds); `cosine` (bool: Nichol & Dhariwal's schedule instead of
linear); `size` (8 | 16 | 28, default 8: the digits' side, resized; attention stays at
the U-Net's lower resolution, size / 2).
"""

import ml_collections

from experiments.configs import base

ARGS = dict(smoke=False, cosine=False, size=base.one_of(8, 16, 28))


def get_config(arg=None):
  args = base.parse_arg(arg, **ARGS)
  c = base.get_base_config()
  c.family = "ddpm"
  c.data.update(name="digits" if args.size == 8 else f"digits/{args.size}x{args.size}")
  c.data.update(batch_size=64, eval_batch_size=100)
  c.model = ml_collections.ConfigDict(
    dict(
      ch=16,
      ch_mult=(1, 2),
      num_res_blocks=2,
      attn_resolutions=(args.size // 2,),
      dropout=0.1,
      norm_groups=8,
    )
  )
  c.objective = ml_collections.ConfigDict(
    dict(
      schedule="cosine" if args.cosine else "linear",
      num_timesteps=1000,
      beta_start=1e-4,  # linear schedule's ends, as the paper
      beta_end=0.02,
      var_type="fixed_large",  # Σ_θ = β_t (fixed_large) or β̃_t (fixed_small)
      clip_x0=True,  # clip x̂_0 to [-1, 1] when sampling and in the bound
      random_flip=False,  # digits are not mirror-symmetric
      vlb_chunk=10,  # timesteps evaluated at once by the bound's lax.map
    )
  )
  c.optim.update(learning_rate=1e-3, warmup_steps=200, grad_clip_norm=1.0)
  c.train.update(num_steps=3000, log_every=200, eval_every=3000, sample_every=1500)
  c.train.update(checkpoint_every=500, ema_decay=0.999)
  # At 16x16 and 28x28, two steps per jitted call. Measured side by side on 2 CPU cores
  # (benchmarks/step_variants.py, float32, 2026-12-06, k2 against k1): 0.94x (16x16, batch
  # 64) and 0.96x (28x28, batch 32) the time per step, for 1.3-1.4x the compile time.
  # (Before XLA's temporaries came in blocks a thread's heap keeps, launch/malloc.py,
  # two steps gave 0.92x and 0.84x.)
  c.train.steps_per_dispatch = 1 if args.size == 8 else 2
  c.sample = ml_collections.ConfigDict(
    dict(
      num=64,
      batch_size=300,
      sampler="ddim",  # what the loop's samples and periodic FD use: ancestral | ddim
      ddim_steps=50,
      ddim_eta=0.0,
      quality_num=100,  # samples per sampler of the sampler_sweep (T-step rows cost most)
    )
  )
  # FD and samples/s of DDIM at S steps and of ancestral sampling (figures/
  # steps_vs_quality.md), on finished workdirs only: T-step samplers are slow
  c.evals.sampler_sweep = dict(type="sampler_sweep", every=-1)
  return smoke(c) if args.smoke else c


def smoke(c):
  """`smoke` for any DDPM config: a tiny two-level U-Net, T = 20, seconds."""
  base.smoke(c)
  c.model.update(ch=8, norm_groups=4, ch_mult=(1, 2))
  c.objective.update(num_timesteps=20, vlb_chunk=5)
  c.optim.warmup_steps = 0
  c.sample.update(ddim_steps=5, quality_num=16)
  return c
