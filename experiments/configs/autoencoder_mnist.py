"""Hinton & Salakhutdinov (2006)'s deep autoencoder on MNIST = autoencoder_digits.py with
784-1000-500-250-30, a linear 30-d code, squared error ½Σ‖y − x‖².

Trained end to end from a random initialisation with Adam, with NO RBM pretraining (the
paper pretrains a stack of RBMs, then fine-tunes with conjugate gradients); its logistic
units are tanh here (a rescaled logistic, tanh(a) = 2σ(2a) − 1, matching the [-1, 1]
images). 200 epochs of minibatch 100. Args: `smoke` (bool).
Needs TFDS's mnist prepared in data.data_dir (`tfds build mnist --file_format=array_record`).
"""

from experiments.configs import autoencoder_digits, base


def get_config(arg=None):
  args = base.parse_arg(arg, smoke=False)
  c = autoencoder_digits.get_config()
  c.data.name = "mnist"
  c.model.update(hidden=(1000, 500, 250), code_dim=30, activation="tanh")
  c.train.update(num_steps=120_000, log_every=1000, ema_decay=0.999)
  c.train.update(eval_every=10_000, sample_every=10_000, checkpoint_every=10_000)
  c.eval.update(fd_num_samples=10_000, feature_net="classifier_mnist")
  return base.smoke(c) if args.smoke else c
