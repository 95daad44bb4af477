"""A denoising autoencoder in the setting of Vincent et al. (2008) on MNIST =
autoencoder_digits.py with one hidden layer, masking noise destroying 25 % of the input
pixels, trained by minibatch SGD to reconstruct the clean input.

Differences from the paper, stated: the paper's sigmoid units and cross-entropy loss are
tanh units and ½Σ squared error here (images in [-1, 1]); its tied weights W' = Wᵀ are
untied; the 1000 hidden units and the learning rate are our choice (the paper selected
layer sizes and rates on validation data). Args: `smoke` (bool).
Needs TFDS's mnist prepared in data.data_dir (`tfds build mnist --file_format=array_record`).
"""

from experiments.configs import autoencoder_digits, base


def get_config(arg=None):
  args = base.parse_arg(arg, smoke=False)
  c = autoencoder_digits.get_config()
  c.data.update(name="mnist", batch_size=20)
  # one hidden layer: the code itself
  c.model.update(hidden=(), code_dim=1000, code_activation="tanh", activation="tanh")
  c.objective.update(corruption="masking", corruption_level=0.25)
  c.optim.update(name="sgd", learning_rate=0.01)
  c.train.update(num_steps=150_000, log_every=1000, ema_decay=0.0)  # 50 epochs of 20
  c.train.update(eval_every=15_000, sample_every=15_000, checkpoint_every=15_000)
  c.eval.update(fd_num_samples=10_000, feature_net="classifier_mnist")
  return base.smoke(c) if args.smoke else c
