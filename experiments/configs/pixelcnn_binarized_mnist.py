"""PixelCNN on binarized MNIST (the fixed binarisation of Larochelle & Murray 2011), the
setting of PixelRNN's Table 4, where PixelCNN reports 81.30 nats per image: a 7x7 mask-A
convolution, 15 masked 3x3 layers (here residual blocks) and a Bernoulli output. Args as
pixelcnn_digits.py."""

from experiments.configs import base, pixelcnn_digits


def paper_config(arch: str, dataset: str, arg=None, *, num_steps=100_000, batch_size=64, **model):
  """pixelcnn_digits.py with model.arch = `arch` and the `model` fields changed, moved to
  `dataset` (binarized_mnist, or 8-bit colour cifar10) at paper scale; `smoke` stays tiny."""
  args = base.parse_arg(arg, **pixelcnn_digits.ARGS)
  c = pixelcnn_digits.get_config(dict(args, smoke=False))
  c.model.update(arch=arch, **model)
  c.data.update(name=dataset, binarize="none", batch_size=batch_size)  # binarized: already
  if dataset != "binarized_mnist" and args.logistic:
    c.model.num_mix = 10  # PixelCNN++'s components per pixel, here per sub-pixel
  elif dataset != "binarized_mnist":
    c.model.likelihood = "softmax"
  c.train.update(num_steps=num_steps, log_every=100, eval_every=10_000, sample_every=10_000)
  c.train.update(checkpoint_every=5000, ema_decay=0.9995)
  c.train.steps_per_dispatch = 1  # the digits' five were measured at the digits' size only
  c.eval.fd_num_samples = 0  # the digit classifier does not fit; bits/dim is the metric
  if args.smoke:
    pixelcnn_digits.smoke(c)
    c.eval.fd_num_samples = 0
  return c


def get_config(arg=None):
  return paper_config("pixelcnn", "binarized_mnist", arg, hidden=64, num_layers=15)
