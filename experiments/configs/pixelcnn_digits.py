"""The autoregressive family's default: PixelCNN on the embedded digits, 28x28,
dynamically binarised: a Bernoulli per pixel and NLL in nats per image, the
binarized-MNIST setting of PixelRNN's Table 4 at the size the samplers are benchmarked at
(28x28 = 784 sequential draws). 8-bit 16x16 would be cheaper to train, but 28x28 digits
say more about sampling cost; binarised keeps the output layer to one logit per pixel so
a run fits in a few CPU minutes. Every other autoregressive config derives from it.

Args (all bool): `smoke` (seconds), `softmax8bit` (grey-level data, 256-way softmax,
bits/dim), `logistic` (grey-level data, a discretised mixture of 5 logistics as
PixelCNN++), `naive` (sample with the naive sampler), `conditional` (Gated PixelCNN
only)."""

import ml_collections

from experiments.configs import base

ARGS = dict(smoke=False, softmax8bit=False, logistic=False, naive=False, conditional=False)


def get_config(arg=None):
  args = base.parse_arg(arg, **ARGS)
  c = base.get_base_config()
  c.family = "autoregressive"
  grey = args.softmax8bit or args.logistic
  c.data.update(name="digits/28x28", binarize="none" if grey else "dynamic")
  c.data.update(batch_size=32, eval_batch_size=100)
  c.model = ml_collections.ConfigDict(
    dict(
      arch="pixelcnn",  # pixelcnn | gated_pixelcnn | row_lstm | diagonal_bilstm
      # bernoulli | softmax (256 values) | logistic_mixture (genjax/subpixel.py)
      likelihood=(
        "softmax" if args.softmax8bit else "logistic_mixture" if args.logistic else "bernoulli"
      ),
      num_mix=5,  # logistic_mixture components per sub-pixel
      hidden=16,  # channels per layer (PixelCNN's residual stream: 2x)
      num_layers=5,  # residual blocks / gated layers / LSTM layers
      kernel=3,  # PixelCNN / Gated PixelCNN layers after the first
      first_kernel=7,  # the first, mask-A convolution
      head_hidden=64,
      conditional=args.conditional,  # class-conditional (Gated PixelCNN)
      num_classes=10,
    )
  )
  c.optim.update(learning_rate=1e-3, grad_clip_norm=10.0)
  c.train.update(num_steps=1000, log_every=50, eval_every=500, sample_every=500)
  c.train.update(checkpoint_every=250, ema_decay=0.99)
  # Five steps per jitted call (the PixelRNN configs take one, autoregressive_config).
  # Measured side by side on 2 CPU cores (benchmarks/step_variants.py, float32, batch 32,
  # 2026-12-06, k5 against k1): PixelCNN's step took 0.70x the time, Gated PixelCNN's
  # 0.92x, for 2.3-2.4x the compile time; Row LSTM's 0.96x and Diagonal BiLSTM's 0.99x,
  # not worth their 1.8-2.2x. (Five steps gave 0.60-0.84x while the steps' temporaries,
  # 85-258 MiB, came as one block that glibc mapped afresh on every call, before XLA was
  # asked for blocks a thread's heap keeps: launch/malloc.py.)
  c.train.steps_per_dispatch = 5
  c.sample.update(num=64, batch_size=100)
  c.sample.sampler = "naive" if args.naive else "fast"  # same samples, per key
  c.eval.fd_num_samples = 200
  # E sum_i H(Bernoulli(grey_i)) of the test digits: no model's NLL of dynamically
  # binarised data is below it (left out for grey-level data)
  c.evals.binarization_floor = dict(type="binarization_floor", every=-1)
  return smoke(c) if args.smoke else c


def smoke(c):
  """`smoke` for any autoregressive config: one tiny layer, six steps."""
  base.smoke(c)
  c.data.batch_size = 8
  c.model.update(hidden=6, num_layers=1, head_hidden=8)
  c.train.update(num_steps=6, eval_every=6, sample_every=6, checkpoint_every=3)
  c.train.ema_decay = 0.99  # a short average for a few steps
  c.sample.num = 4
  c.eval.fd_num_samples = 20
  return c


def autoregressive_config(arch: str, arg=None, steps_per_dispatch=None, **model):
  """This config with model.arch = `arch`, the `model` fields changed and, where given,
  `steps_per_dispatch` steps per jitted call: the other *_digits.py configs of the family."""
  args = base.parse_arg(arg, **ARGS)
  c = get_config(dict(args, smoke=False))
  c.model.update(arch=arch, **model)
  if steps_per_dispatch is not None:
    c.train.steps_per_dispatch = steps_per_dispatch
  return smoke(c) if args.smoke else c
