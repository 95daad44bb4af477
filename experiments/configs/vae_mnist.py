"""The paper's MNIST setting (Kingma & Welling 2013, Figure 2): an MLP with 500 hidden
units in encoder and decoder, tanh, a Bernoulli decoder on (dynamically) binarised
MNIST, minibatch 100, Adagrad; training runs to 1e8 images as the figure's x axis.

Args: `z3`, `z5`, `z10`, `z20` (default), `z200` choose the latent dimension as the
figure's panels do; `smoke` for a seconds-long run (needs the prepared dataset).
Needs TFDS's mnist prepared in data.data_dir (`tfds build mnist --file_format=array_record`).
"""

import ml_collections

from experiments.configs import base

LATENTS = ("z3", "z5", "z10", "z20", "z200")


def get_config(arg=None):
  args = base.parse_arg(arg, ("smoke",) + LATENTS)
  latent = next((int(a[1:]) for a in args if a in LATENTS), 20)
  c = base.get_base_config()
  c.family = "vae"
  c.data.name = "mnist"
  c.data.binarize = "dynamic"
  c.data.batch_size = 100
  c.data.eval_batch_size = 100
  c.model = ml_collections.ConfigDict(
    dict(
      backbone="mlp",
      latent_dim=latent,
      hidden=(500,),
      channels=(32, 64),
      activation="tanh",
      num_mix=5,
    )
  )  # for objective.likelihood="logistic_mixture" (see vae_digits.py)
  c.objective = ml_collections.ConfigDict(
    dict(likelihood="bernoulli", beta=1.0, iw_samples=5000, iw_batch=500)
  )  # k = 5000 as Burda et al. evaluate log p(x)
  # "Stepsizes were adapted with Adagrad ... chosen from {0.01, 0.02, 0.1}".
  c.optim.name = "adagrad"
  c.optim.learning_rate = 0.02
  c.optim.initial_accumulator_value = 0.0
  c.optim.eps = 1e-8
  c.train.num_steps = 1_000_000
  c.train.log_every = 1000
  c.train.eval_every = 50_000
  c.train.sample_every = 50_000
  c.train.checkpoint_every = 10_000
  c.train.ema_decay = 0.0  # the paper reports the raw parameters
  c.eval.fd_num_samples = 10_000
  c.eval.feature_net = "classifier_mnist"
  if "smoke" in args:
    base.smoke(c)
    c.objective.iw_samples = 8
    c.objective.iw_batch = 8
  return c
