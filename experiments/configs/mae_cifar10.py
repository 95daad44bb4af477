"""The paper's pre-training recipe (He et al. 2021) at a CIFAR-10 scale: 4x4 patches on
32x32 colour images (64 per image), 75 % masked, a ViT-S-sized encoder (width 384, depth
12, 6 heads) and the paper's light decoder (width 512 is ImageNet's; 256 x 4 here, a
similar fraction of the encoder), normalised-pixel targets, AdamW with
lr = 1.5e-4 * batch / 256, beta2 0.95, weight decay 0.05, 40 warm-up epochs then cosine,
batch 4096 as the paper. Args: `smoke`, `ratio80`.
Needs TFDS's cifar10 prepared in data.data_dir (`tfds build cifar10 --file_format=array_record`).
"""

import ml_collections

from experiments.configs import base

_TRAIN_IMAGES = 50_000


def get_config(arg=None):
  args = base.parse_arg(arg, ("smoke", "ratio80"))
  c = base.get_base_config()
  c.family = "mae"
  c.data.name = "cifar10"
  c.data.batch_size = 4096
  c.data.eval_batch_size = 500
  c.model = ml_collections.ConfigDict(
    dict(
      patch_size=4,
      width=384,
      depth=12,
      num_heads=6,
      decoder_width=256,
      decoder_depth=4,
      decoder_heads=8,
      mlp_ratio=4.0,
    )
  )
  c.objective = ml_collections.ConfigDict(
    dict(
      mask_ratio=0.8 if "ratio80" in args else 0.75,
      norm_pix_loss=True,
    )
  )
  steps_per_epoch = _TRAIN_IMAGES // c.data.batch_size
  c.optim.name = "adamw"
  c.optim.learning_rate = 1.5e-4 * c.data.batch_size / 256
  c.optim.b1 = 0.9
  c.optim.b2 = 0.95
  c.optim.weight_decay = 0.05
  c.optim.schedule = "cosine"
  c.optim.warmup_steps = 40 * steps_per_epoch
  c.train.num_steps = 800 * steps_per_epoch  # the paper's 800-epoch schedule
  c.train.log_every = 50
  c.train.eval_every = 2000
  c.train.sample_every = 0
  c.train.checkpoint_every = 1000
  c.train.ema_decay = 0.0  # the paper uses the raw parameters
  c.eval.fd_num_samples = 0
  c.eval.feature_net = ""
  if "smoke" in args:
    base.smoke(c)
    c.optim.warmup_steps = 5
    c.optim.learning_rate = 1.5e-4 * c.data.batch_size / 256
    c.model.width, c.model.depth, c.model.num_heads = 64, 1, 4
    c.model.decoder_width, c.model.decoder_depth, c.model.decoder_heads = 32, 1, 4
  return c
