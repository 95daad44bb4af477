"""The autoencoder family's default: a basic autoencoder on the embedded digits (28x28,
grey levels in [-1, 1]), an MLP 784-500-500-20 with a linear 20-d code, the same size as
vae_digits.py:latent20 so that "decoding random codes" can be compared fairly with the
VAE. Loss ½Σ‖y(x) − x‖².

The other autoencoder configs (sparse, denoising, conv, MNIST) derive from this one.
Args: `smoke` (bool: seconds).
"""

import ml_collections

from experiments.configs import base


def get_config(arg=None):
  args = base.parse_arg(arg, smoke=False)
  c = base.get_base_config()
  c.family = "autoencoder"
  c.data.update(name="digits/28x28", binarize="none", batch_size=100, eval_batch_size=100)
  c.model = ml_collections.ConfigDict(
    dict(
      backbone="mlp",  # mlp | conv
      code_dim=20,
      hidden=(500, 500),  # MLP widths, encoder order; the decoder mirrors them
      channels=(32, 64),  # conv widths, encoder order
      activation="relu",
      code_activation="linear",  # linear | relu | tanh | ... (relu gives exact zeros)
      output_activation="tanh",  # tanh | linear
    )
  )
  c.objective = ml_collections.ConfigDict(
    dict(
      sparsity_weight=0.0,  # λ of λ Σ|z_k|
      sparsity_threshold=0.01,  # |z_k| below it counts as off in eval/sparsity
      corruption="none",  # none | gaussian | masking (the DAE's training input)
      corruption_level=0.0,  # Gaussian std in [-1, 1] units, or the masked fraction
      # eval/rec_error_corrupted uses this for every variant, so all compare on the same
      # noisy test images (the DAE config trains with the same corruption).
      eval_corruption="masking",
      eval_corruption_level=0.25,
    )
  )
  c.optim.learning_rate = 1e-3
  c.train.update(num_steps=5000, log_every=250, ema_decay=0.99)
  c.train.update(eval_every=2500, sample_every=2500, checkpoint_every=2500)
  # The code as features: a logistic regression fitted on the training split, scored on
  # the test split, beside a random-init encoder and the pixels (on finished workdirs).
  c.evals.linear_probe = dict(type="linear_probe", every=-1)
  return base.smoke(c) if args.smoke else c
