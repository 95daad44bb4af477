"""A denoising autoencoder in the setting of Vincent et al. (2008) on MNIST: one hidden
layer, masking noise destroying 25 % of the input pixels, trained by minibatch SGD to
reconstruct the clean input.

Differences from the paper, stated: the paper's sigmoid units and cross-entropy loss are
tanh units and ½Σ squared error here (images in [-1, 1]); its tied weights W' = Wᵀ are
untied; the 1000 hidden units and the learning rate are our choice (the paper selected
layer sizes and rates on validation data). Args: `smoke`.
Needs TFDS's mnist prepared in data.data_dir (`tfds build mnist --file_format=array_record`).
"""

from experiments.configs import autoencoder_digits, base


def get_config(arg=None):
  args = base.parse_arg(arg, ("smoke",))
  c = autoencoder_digits.get_config()
  c.data.name = "mnist"
  c.data.batch_size = 20
  c.model.hidden = ()  # one hidden layer: the code itself
  c.model.code_dim = 1000
  c.model.code_activation = "tanh"
  c.model.activation = "tanh"
  c.objective.corruption = "masking"
  c.objective.corruption_level = 0.25
  c.optim.name = "sgd"
  c.optim.learning_rate = 0.01
  c.train.num_steps = 150_000  # 50 epochs of minibatch 20
  c.train.log_every = 1000
  c.train.eval_every = 15_000
  c.train.sample_every = 15_000
  c.train.checkpoint_every = 15_000
  c.train.ema_decay = 0.0
  c.eval.fd_num_samples = 10_000
  c.eval.feature_net = "classifier_mnist"
  if "smoke" in args:
    base.smoke(c)
  return c
