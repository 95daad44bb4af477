"""Fine-tuning the masked autoencoder's encoder for digit classification (He et al. 2021,
Sec. 4, end-to-end fine-tuning): the `mae_digits.py` encoder under a linear head, all
trained on the labels, starting from the MAE run in workdirs/mae_digits. Train that run
first. Args: `scratch` (the same model from random weights: what pre-training is worth),
`ratio80` (the encoder of mae_digits.py:ratio80), `smoke` (seconds; from scratch)."""

import ml_collections

from experiments.configs import base, mae_digits


def get_config(arg=None):
  args = base.parse_arg(arg, ("smoke", "scratch", "ratio80"))
  c = base.get_base_config()
  c.family = "classifier"
  c.data.name = "digits/28x28"
  c.data.batch_size = 64
  c.data.eval_batch_size = 100
  pre = mae_digits.get_config(",".join(sorted(args & {"smoke", "ratio80"})) or None)
  c.model = ml_collections.ConfigDict(
    dict(
      backbone="mae",
      mae=pre.model,  # must match the run in init_from
      num_classes=10,
      init_from=""
      if args & {"scratch", "smoke"}
      else ("workdirs/mae_digits_ratio80" if "ratio80" in args else "workdirs/mae_digits"),
    )
  )
  # The paper's fine-tuning recipe in miniature: AdamW, warm-up then cosine decay.
  c.optim.name = "adamw"
  c.optim.learning_rate = 5e-4
  c.optim.b2 = 0.999
  c.optim.weight_decay = 0.05
  c.optim.schedule = "cosine"
  c.optim.warmup_steps = 50
  c.train.num_steps = 1000
  c.train.log_every = 100
  c.train.eval_every = 500
  c.train.sample_every = 0
  c.train.checkpoint_every = 500
  c.train.ema_decay = 0.0
  c.eval.fd_num_samples = 0
  c.eval.feature_net = ""
  if "smoke" in args:
    base.smoke(c)
    c.optim.warmup_steps = 2
    c.train.sample_every = 0
    c.eval.fd_num_samples = 0
  return c
