"""PixelCNN on the embedded digits, 28x28, dynamically binarised: a Bernoulli per pixel
and NLL in nats per image, the binarized-MNIST setting of PixelRNN's Table 4 at the
size the samplers are benchmarked at (28x28 = 784 sequential draws). 8-bit 16x16 would
be cheaper to train, but 28x28 digits say more about sampling cost; binarised keeps the
output layer to one logit per pixel so a run fits in a few CPU minutes.

Args: `smoke` (seconds), `softmax8bit` (grey-level data, 256-way softmax, bits/dim),
`logistic` (grey-level data, a discretised mixture of 5 logistics as PixelCNN++), `naive`
(sample with the naive sampler), `conditional` (Gated PixelCNN only)."""

import ml_collections

from experiments.configs import base

VARIANTS = ("smoke", "softmax8bit", "logistic", "naive", "conditional")


def autoregressive_config(
  arch: str, arg=None, *, hidden=16, num_layers=5, lr=1e-3, num_steps=1000, batch_size=32
):
  """The digits config of one model.arch; the other *_digits.py files call this."""
  args = base.parse_arg(arg, VARIANTS)
  c = base.get_base_config()
  c.family = "autoregressive"
  c.data.name = "digits/28x28"
  grey = "softmax8bit" in args or "logistic" in args
  c.data.binarize = "none" if grey else "dynamic"
  c.data.batch_size = batch_size
  c.data.eval_batch_size = 100
  c.model = ml_collections.ConfigDict(
    dict(
      arch=arch,  # pixelcnn | gated_pixelcnn | row_lstm | diagonal_bilstm
      # bernoulli | softmax (256 values) | logistic_mixture (genjax/subpixel.py)
      likelihood=(
        "softmax"
        if "softmax8bit" in args
        else "logistic_mixture"
        if "logistic" in args
        else "bernoulli"
      ),
      num_mix=5,  # logistic_mixture components per sub-pixel
      hidden=hidden,  # channels per layer (PixelCNN's residual stream: 2x)
      num_layers=num_layers,  # residual blocks / gated layers / LSTM layers
      kernel=3,  # PixelCNN / Gated PixelCNN layers after the first
      first_kernel=7,  # the first, mask-A convolution
      head_hidden=64,
      conditional="conditional" in args,  # class-conditional (Gated PixelCNN)
      num_classes=10,
    )
  )
  c.optim.learning_rate = lr
  c.optim.grad_clip_norm = 10.0
  c.train.num_steps = num_steps
  c.train.log_every = 50
  c.train.eval_every = num_steps // 2
  c.train.sample_every = num_steps // 2
  c.train.checkpoint_every = num_steps // 4
  c.train.ema_decay = 0.99
  c.sample.num = 64
  c.sample.batch_size = 100
  c.sample.sampler = "naive" if "naive" in args else "fast"  # same samples, per key
  c.eval.fd_num_samples = 200
  if "smoke" in args:
    base.smoke(c)
    c.data.batch_size = 8
    c.model.hidden = 6
    c.model.num_layers = 1
    c.model.head_hidden = 8
    c.train.num_steps = 6
    c.train.eval_every = 6
    c.train.sample_every = 6
    c.train.checkpoint_every = 3
    c.sample.num = 4
    c.eval.fd_num_samples = 20
  return c


def get_config(arg=None):
  return autoregressive_config("pixelcnn", arg)
