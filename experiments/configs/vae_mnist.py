"""The paper's MNIST setting (Kingma & Welling 2013, Figure 2) = vae_digits.py with an MLP
of 500 tanh units in encoder and decoder, a Bernoulli decoder on (dynamically) binarised
MNIST, minibatch 100, Adagrad; training runs to 1e8 images as the figure's x axis.

Args: `z` (int, default 20: the latent dimension; Figure 2's panels are z=3, 5, 10, 20,
200); `smoke` (bool: a seconds-long run; needs the prepared dataset).
Needs TFDS's mnist prepared in data.data_dir (`tfds build mnist --file_format=array_record`).
"""

from experiments.configs import base, vae_digits

ARGS = dict(smoke=False, z=20)


def get_config(arg=None):
  args = base.parse_arg(arg, **ARGS)
  c = vae_digits.get_config(dict(z=args.z))
  c.data.name = "mnist"
  c.model.update(hidden=(500,), activation="tanh")
  c.objective.update(iw_samples=5000, iw_batch=500)  # k = 5000 as Burda et al. evaluate log p(x)
  # "Stepsizes were adapted with Adagrad ... chosen from {0.01, 0.02, 0.1}".
  c.optim.update(name="adagrad", learning_rate=0.02, initial_accumulator_value=0.0)
  c.optim.grad_clip_norm = 0.0
  c.train.update(num_steps=1_000_000, log_every=1000, eval_every=50_000, sample_every=50_000)
  c.train.checkpoint_every = 10_000
  c.train.ema_decay = 0.0  # the paper reports the raw parameters
  c.eval.update(fd_num_samples=10_000, feature_net="classifier_mnist")
  return vae_digits.smoke(c) if args.smoke else c
