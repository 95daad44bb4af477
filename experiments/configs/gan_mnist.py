"""Goodfellow et al. (2014)'s MNIST GAN: G an MLP of two 1200-unit ReLU layers to a tanh
image (the paper's sigmoid, moved to [-1, 1]) from z ~ U(-1, 1)^100; D two maxout layers
of 240 units x 5 pieces with dropout 0.5 before every layer (the paper's code keeps 0.8
of the inputs) to one logit; minibatch 100, k = 1 D step per G step. The paper trained
with SGD and momentum; here both networks use Adam 2e-4, beta1 0.5 (Radford et al.'s
settings, those of the digits runs). Not trained on this machine (no MNIST here).
Training reads train[:50000]; the Parzen estimate uses 10k samples and sigma chosen on the
held-out train[50000:] images, as Table 1 (MNIST: 225 ± 2 nats).

Args (all bool): `smoke`; `saturating`, `lsgan`, `hinge`, `k2` as gan_digits.py.
Needs TFDS's mnist prepared in data.data_dir (`tfds build mnist --file_format=array_record`).
"""

from experiments.configs import base, gan_digits

ARGS = dict(smoke=False, saturating=False, lsgan=False, hinge=False, k2=False)


def get_config(arg=None):
  args = base.parse_arg(arg, **ARGS)
  c = gan_digits.get_config(dict(args, smoke=False, paper=True))
  c.data.update(name="mnist", train_split="train[:50000]", batch_size=100)  # the rest: sigma
  c.model.update(g_hidden=(1200, 1200), d_hidden=(240, 240), d_maxout_pieces=5, d_dropout=0.5)
  c.eval.update(fd_num_samples=10_000, feature_net="classifier_mnist")
  c.eval.parzen_valid_split = "train[50000:]"
  return paper_scale(c, args, num_steps=100_000)


def paper_scale(c, args, *, num_steps: int, sample_every=5000):
  """A paper-scale GAN's training: `num_steps`, its cadence, no parameter averaging (as
  the papers), then `smoke` if asked. The GAN configs on catalog datasets call this."""
  c.train.update(num_steps=num_steps, log_every=200, eval_every=10_000, ema_decay=0.0)
  c.train.update(sample_every=sample_every, checkpoint_every=5000)
  if args.smoke:
    base.smoke(c)
    gan_digits.smoke_figure_metrics(c)
  return c
