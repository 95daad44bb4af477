"""Masked autoencoder on the embedded digits (28x28): 4x4 patches (49 per image), a small
ViT encoder on the visible quarter, a light decoder. Args: `smoke` (seconds), `ratio80`
(mask 80 % of the patches instead of the paper's 75 %)."""

import ml_collections

from experiments.configs import base


def get_config(arg=None):
  args = base.parse_arg(arg, ("smoke", "ratio80"))
  c = base.get_base_config()
  c.family = "mae"
  c.data.name = "digits/28x28"
  c.data.batch_size = 64
  c.data.eval_batch_size = 100
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
      mask_ratio=0.8 if "ratio80" in args else 0.75,
      # Plain pixels here: the figures show them directly (the paper's visual setting).
      norm_pix_loss=False,
    )
  )
  # The paper's AdamW recipe (beta2 0.95, weight decay 0.05, warm-up then cosine), with
  # a learning rate sized for a tiny model and a short run.
  c.optim.name = "adamw"
  c.optim.learning_rate = 1e-3
  c.optim.b2 = 0.95
  c.optim.weight_decay = 0.05
  c.optim.schedule = "cosine"
  c.optim.warmup_steps = 100
  c.train.num_steps = 3000
  c.train.log_every = 100
  c.train.eval_every = 1000
  c.train.sample_every = 0  # not generative: nothing to sample
  c.train.checkpoint_every = 1000
  c.train.ema_decay = 0.99
  c.eval.fd_num_samples = 0  # no samples, so no Fréchet distance
  c.eval.feature_net = ""
  if "smoke" in args:
    base.smoke(c)
    c.optim.warmup_steps = 5
    c.model.width, c.model.depth = 32, 1
  return c
