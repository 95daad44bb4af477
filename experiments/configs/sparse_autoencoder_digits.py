"""Sparse autoencoder on the digits = autoencoder_digits.py with ReLU code units (so an
"off" unit is exactly 0) and λ Σ|z_k| added to the loss. Sweep λ with
`--config.objective.sparsity_weight=...`; eval/sparsity is the fraction of code units
below objective.sparsity_threshold. Args: `smoke` (bool).

The L1 term can also be lowered by shrinking the whole code while the decoder's first
weights grow, which a threshold on |z_k| would misread as sparsity; ReLU codes make an
off unit exactly 0, which no rescaling fakes, but read eval/sparsity beside the code's
scale (train/code_l1) and eval/rec_error.
"""

from experiments.configs import autoencoder_digits


def get_config(arg=None):
  c = autoencoder_digits.get_config(arg)  # smoke touches neither field below
  c.model.code_activation = "relu"
  c.objective.sparsity_weight = 0.1
  return c
