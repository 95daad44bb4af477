"""Hinton & Salakhutdinov (2006)'s deep autoencoder on MNIST: 784-1000-500-250-30 with a
linear 30-d code, squared error ½Σ‖y − x‖².

Trained end to end from a random initialisation with Adam, with NO RBM pretraining (the
paper pretrains a stack of RBMs, then fine-tunes with conjugate gradients); its logistic
units are tanh here (a rescaled logistic, tanh(a) = 2σ(2a) − 1, matching the [-1, 1]
images). 200 epochs of minibatch 100. Args: `smoke`.
Needs TFDS's mnist prepared in data.data_dir (`tfds build mnist --file_format=array_record`).
"""

from experiments.configs import autoencoder_digits, base


def get_config(arg=None):
  args = base.parse_arg(arg, ("smoke",))
  c = autoencoder_digits.get_config()
  c.data.name = "mnist"
  c.model.hidden = (1000, 500, 250)
  c.model.code_dim = 30
  c.model.activation = "tanh"
  c.optim.learning_rate = 1e-3
  c.train.num_steps = 120_000
  c.train.log_every = 1000
  c.train.eval_every = 10_000
  c.train.sample_every = 10_000
  c.train.checkpoint_every = 10_000
  c.train.ema_decay = 0.999
  c.eval.fd_num_samples = 10_000
  c.eval.feature_net = "classifier_mnist"
  if "smoke" in args:
    base.smoke(c)
  return c
