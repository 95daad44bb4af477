"""PixelCNN on binarized MNIST (the fixed binarisation of Larochelle & Murray 2011), the
setting of PixelRNN's Table 4, where PixelCNN reports 81.30 nats per image: a 7x7 mask-A
convolution, 15 masked 3x3 layers (here residual blocks) and a Bernoulli output. Args as
pixelcnn_digits.py."""

from experiments.configs import pixelcnn_digits


def paper_config(arch: str, dataset: str, arg=None, **kw):
  """A *_digits config moved to `dataset` at paper scale; the `smoke` sizes stay tiny."""
  c = pixelcnn_digits.autoregressive_config(arch, arg, **kw)
  c.data.name = dataset
  if dataset == "binarized_mnist":
    c.data.binarize = "none"  # already binary
  else:
    c.data.binarize = "none"
    if "logistic" in (arg or ""):
      c.model.num_mix = 10  # PixelCNN++'s components per pixel, here per sub-pixel
    else:
      c.model.likelihood = "softmax"
  smoke = "smoke" in (arg or "")
  if not smoke:
    c.train.log_every = 100
    c.train.eval_every = 10000
    c.train.sample_every = 10000
    c.train.checkpoint_every = 5000
    c.train.ema_decay = 0.9995
    c.sample.num = 64
    c.eval.fd_num_samples = 0  # the digit classifier does not fit; bits/dim is the metric
  else:
    c.eval.fd_num_samples = 0
  return c


def get_config(arg=None):
  return paper_config(
    "pixelcnn",
    "binarized_mnist",
    arg,
    hidden=64,
    num_layers=15,
    lr=1e-3,
    num_steps=100000,
    batch_size=64,
  )
