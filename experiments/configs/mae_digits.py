"""The masked autoencoder family's default: the embedded digits (28x28), 4x4 patches (49
per image), a small ViT encoder on the visible quarter, a light decoder. mae_cifar10.py
derives from it. Args: `smoke` (bool: seconds), `ratio80` (bool: mask 80 % of the
patches instead of the paper's 75 %)."""

import ml_collections

from experiments.configs import base

ARGS = dict(smoke=False, ratio80=False)


def get_config(arg=None):
  args = base.parse_arg(arg, **ARGS)
  c = base.get_base_config()
  c.family = "mae"
  c.data.update(name="digits/28x28", batch_size=64, eval_batch_size=100)
  c.model = ml_collections.ConfigDict(
    dict(
      patch_size=4,
      # Sized for minutes on 2 CPU cores: XLA:CPU manages a few GFLOP/s on these
      # small matrices, and the decoder (all 49 tokens) costs as much as the encoder.
      width=64,
      depth=3,
      num_heads=4,
      decoder_width=32,
      decoder_depth=1,
      decoder_heads=4,
      mlp_ratio=4.0,
    )
  )
  c.objective = ml_collections.ConfigDict(
    dict(
      mask_ratio=0.8 if args.ratio80 else 0.75,
      # Plain pixels here: the figures show them directly (the paper's visual setting).
      norm_pix_loss=False,
    )
  )
  # The paper's AdamW recipe (beta2 0.95, weight decay 0.05, warm-up then cosine), with
  # a learning rate sized for a tiny model and a short run.
  c.optim.update(name="adamw", learning_rate=1e-3, b2=0.95, weight_decay=0.05)
  c.optim.update(schedule="cosine", warmup_steps=100)
  c.train.update(num_steps=3000, eval_every=1000, checkpoint_every=1000, ema_decay=0.99)
  c.train.sample_every = 0  # not generative: nothing to sample
  c.eval.update(fd_num_samples=0, feature_net="")  # no samples, so no Fréchet distance
  # MAE's linear probe (its Table 3, at the digits' scale) against a random-init encoder
  c.evals.linear_probe = dict(type="linear_probe", every=-1)
  if args.smoke:
    smoke(c)
    c.model.width = 32
  return c


def smoke(c):
  """`smoke` for any MAE config: seconds, a one-block encoder."""
  base.smoke(c)
  c.optim.warmup_steps = 5
  c.model.depth = 1
  return c
