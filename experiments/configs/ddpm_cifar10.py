"""The paper's CIFAR-10 setting (Ho et al. 2020, Section 4 and Appendix B) = ddpm_digits.py
with a U-Net of ch = 128, multipliers (1, 2, 2, 2), 2 residual blocks per resolution,
self-attention at 16×16, dropout 0.1 (35.7M parameters); T = 1000, linear β 1e-4 → 0.02,
L_simple; Adam 2e-4 with 5000 warm-up steps, gradient clipping at norm 1, batch 128, 800k
steps, EMA 0.9999, random horizontal flips.

The full bound over the 10,000 test images costs 10^7 network evaluations: it runs once,
at the end. No CIFAR-10 feature network exists here, so no Fréchet distance (set
eval.feature_net to one to have it). Needs TFDS's cifar10 prepared in data.data_dir.
Args: `smoke` (bool: a tiny U-Net, seconds).
"""

from experiments.configs import base, ddpm_digits


def get_config(arg=None):
  args = base.parse_arg(arg, smoke=False)
  c = ddpm_digits.get_config()
  c.data.update(name="cifar10", batch_size=128)
  c.model.update(ch=128, ch_mult=(1, 2, 2, 2), attn_resolutions=(16,), norm_groups=32)
  c.objective.random_flip = True
  c.optim.update(learning_rate=2e-4, warmup_steps=5000)
  c.train.update(num_steps=800_000, log_every=1000, eval_every=800_000, ema_decay=0.9999)
  c.train.update(sample_every=20_000, checkpoint_every=10_000)
  c.sample.update(batch_size=256, ddim_steps=100, quality_num=10_000)
  c.eval.update(feature_net="", fd_num_samples=0)
  if args.smoke:
    ddpm_digits.smoke(c)
    c.eval.fd_num_samples = 0
  return c
