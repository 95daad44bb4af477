"""VAE on the embedded digits (28x28, dynamically binarised), 2-D latent so the learned
manifold can be drawn. Args: `smoke` (seconds), `conv` (conv encoder/decoder),
`latent20` (a 20-d latent), `logistic` (8-bit grey data, a discretised mixture of 5
logistics per sub-pixel: a bound on the discrete NLL in bits/dim, as PixelCNN's)."""

import ml_collections

from experiments.configs import base


def get_config(arg=None):
  args = base.parse_arg(arg, ("smoke", "conv", "latent20", "logistic"))
  c = base.get_base_config()
  c.family = "vae"
  c.data.name = "digits/28x28"
  c.data.binarize = "none" if "logistic" in args else "dynamic"
  c.data.batch_size = 100
  c.data.eval_batch_size = 100
  c.model = ml_collections.ConfigDict(
    dict(
      backbone="conv" if "conv" in args else "mlp",
      latent_dim=20 if "latent20" in args else 2,
      hidden=(500, 500),
      channels=(32, 64),
      activation="relu",
      num_mix=5,  # logistic_mixture components per sub-pixel
    )
  )
  c.objective = ml_collections.ConfigDict(
    dict(
      # bernoulli | gaussian (a density: metrics end in _continuous) | logistic_mixture |
      # softmax (8-bit, genjax/subpixel.py; data.binarize="none")
      likelihood="logistic_mixture" if "logistic" in args else "bernoulli",
      beta=1.0,
      iw_samples=1000,  # k of the importance-weighted log p(x) estimate (Burda 2015)
      iw_batch=100,  # importance samples drawn at a time
    )
  )
  c.optim.learning_rate = 1e-3
  c.optim.grad_clip_norm = 100.0
  c.train.num_steps = 6000
  c.train.eval_every = 2000
  c.train.sample_every = 2000
  c.train.checkpoint_every = 2000
  c.train.ema_decay = 0.99
  if "smoke" in args:
    base.smoke(c)
    c.objective.iw_samples = 8
    c.objective.iw_batch = 8
  return c
