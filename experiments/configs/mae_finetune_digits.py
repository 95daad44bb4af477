"""Fine-tuning the masked autoencoder's encoder for digit classification (He et al. 2021,
Sec. 4, end-to-end fine-tuning) = classifier_digits.py with the `mae_digits.py` encoder
under a linear head, all trained on the labels, starting from the MAE run in
workdirs/mae_digits, and the paper's fine-tuning recipe in miniature (AdamW, warm-up then
cosine decay). Train that run first.

Args: `scratch` (bool: the same model from random weights: what pre-training is worth);
`ratio80` (bool: the encoder of mae_digits.py:ratio80); `smoke` (bool: seconds; from
scratch).
"""

import ml_collections

from experiments.configs import base, classifier_digits, mae_digits


def get_config(arg=None):
  args = base.parse_arg(arg, smoke=False, scratch=False, ratio80=False)
  c = classifier_digits.get_config()
  pre = mae_digits.get_config(dict(smoke=args.smoke, ratio80=args.ratio80))
  c.model = ml_collections.ConfigDict(
    dict(
      backbone="mae",
      mae=pre.model,  # must match the run in init_from
      num_classes=10,
      init_from=""
      if args.scratch or args.smoke
      else ("workdirs/mae_digits_ratio80" if args.ratio80 else "workdirs/mae_digits"),
    )
  )
  c.optim.update(name="adamw", learning_rate=5e-4, weight_decay=0.05, warmup_steps=50)
  c.train.update(checkpoint_every=500, keep_checkpoints=3, ema_decay=0.0)
  c.eval.feature_net = ""
  if args.smoke:
    classifier_digits.smoke(c)
    c.optim.warmup_steps = 2
  return c
