"""The paper's pre-training recipe (He et al. 2021) at a CIFAR-10 scale = mae_digits.py
with 4x4 patches on 32x32 colour images (64 per image), 75 % masked, a ViT-S-sized encoder
(width 384, depth 12, 6 heads) and the paper's light decoder (width 512 is ImageNet's;
256 x 4 here, a similar fraction of the encoder), normalised-pixel targets, AdamW with
lr = 1.5e-4 * batch / 256, beta2 0.95, weight decay 0.05, 40 warm-up epochs then cosine,
batch 4096 as the paper. Args as mae_digits.py: `smoke` (bool), `ratio80` (bool).
Needs TFDS's cifar10 prepared in data.data_dir (`tfds build cifar10 --file_format=array_record`).
"""

from experiments.configs import base, mae_digits

_TRAIN_IMAGES = 50_000


def get_config(arg=None):
  args = base.parse_arg(arg, **mae_digits.ARGS)
  c = mae_digits.get_config(dict(args, smoke=False))
  c.data.update(name="cifar10", batch_size=4096, eval_batch_size=500)
  c.model.update(width=384, depth=12, num_heads=6)
  c.model.update(decoder_width=256, decoder_depth=4, decoder_heads=8)
  c.objective.norm_pix_loss = True
  steps_per_epoch = _TRAIN_IMAGES // c.data.batch_size
  c.optim.update(learning_rate=1.5e-4 * c.data.batch_size / 256, warmup_steps=40 * steps_per_epoch)
  c.train.num_steps = 800 * steps_per_epoch  # the paper's 800-epoch schedule
  c.train.update(log_every=50, eval_every=2000, ema_decay=0.0)  # the paper: raw parameters
  if args.smoke:
    mae_digits.smoke(c)
    c.optim.learning_rate = 1.5e-4 * c.data.batch_size / 256
    c.model.update(width=64, num_heads=4, decoder_width=32, decoder_depth=1, decoder_heads=4)
  return c
