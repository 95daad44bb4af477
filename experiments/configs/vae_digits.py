"""The VAE family's default: the embedded digits (28x28, dynamically binarised), a 2-D
latent so the learned manifold can be drawn. vae_mnist.py and vae_binarized_mnist.py
derive from it.

Args: `smoke` (bool: seconds); `conv` (bool: conv encoder/decoder); `z` (int, default 2:
the latent dimension); `latent20` (bool: z=20); `logistic` (bool: 8-bit grey data, a
discretised mixture of 5 logistics per sub-pixel: a bound on the discrete NLL in
bits/dim, as PixelCNN's).
"""

import ml_collections

from experiments.configs import base

ARGS = dict(smoke=False, conv=False, z=2, latent20=False, logistic=False)


def get_config(arg=None):
  args = base.parse_arg(arg, **ARGS)
  if args.latent20 and args.z not in (2, 20):
    raise ValueError(f"config arguments latent20 and z={args.z} disagree; give one of them.")
  c = base.get_base_config()
  c.family = "vae"
  c.data.update(name="digits/28x28", binarize="none" if args.logistic else "dynamic")
  c.data.update(batch_size=100, eval_batch_size=100)
  c.model = ml_collections.ConfigDict(
    dict(
      backbone="conv" if args.conv else "mlp",
      latent_dim=20 if args.latent20 else args.z,
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
      likelihood="logistic_mixture" if args.logistic else "bernoulli",
      beta=1.0,
      iw_samples=1000,  # k of the importance-weighted log p(x) estimate (Burda 2015)
      iw_batch=100,  # importance samples drawn at a time
    )
  )
  c.optim.update(learning_rate=1e-3, grad_clip_norm=100.0)
  c.train.update(num_steps=6000, eval_every=2000, sample_every=2000, checkpoint_every=2000)
  c.train.ema_decay = 0.99
  return smoke(c) if args.smoke else c


def smoke(c):
  """`smoke` for any VAE config: seconds, and a few importance samples."""
  base.smoke(c)
  c.objective.update(iw_samples=8, iw_batch=8)
  return c
