"""Generators and discriminators of Goodfellow et al. (2014) and DCGAN (Radford et al. 2015).

Architecture only: z -> image in [-1, 1] (tanh), image -> one logit per example. Losses,
alternating updates and sampling live in experiments/gan.py.
"""

from typing import Sequence

import flax.linen as nn
import jax.numpy as jnp
import numpy as np

from genjax.nn.dropout import Dropout
from genjax.nn.mlp import ACTIVATIONS
from genjax.nn.upsample import ConvTransposeUp

# DCGAN: "All weights were initialized from a zero-centered Normal distribution with
# standard deviation 0.02."
DCGAN_INIT = nn.initializers.normal(0.02)


def spectral(layer: nn.Module, enabled: bool, train: bool, n_steps: int = 1):
  """`layer`, or `layer` with spectral normalisation (Miyato et al. 2018) when `enabled`:
  its kernel (a conv kernel as a [kh*kw*cin, cout] matrix) divided by the largest
  singular value, estimated by `n_steps` power iterations per call from the vector u
  kept in the 'batch_stats' collection (updated only when `train`). The layer keeps its
  own name and parameters; u and sigma live under "sn_<layer name>"."""
  if not enabled:
    return layer
  sn = nn.SpectralNorm(layer, n_steps=n_steps, name=f"sn_{layer.name}")
  return lambda x: sn(x, update_stats=train)


def _activation(name: str):
  if name == "leaky_relu":  # The slope both papers use in D (DCGAN: 0.2).
    return lambda x: nn.leaky_relu(x, 0.2)
  return ACTIVATIONS[name]


class MLPGenerator(nn.Module):
  """z -> hidden layers -> tanh image (Goodfellow 2014's MNIST generator, tanh for [-1, 1])."""

  image_shape: Sequence[int]
  hidden: Sequence[int] = (256, 512)
  activation: str = "relu"
  dtype: jnp.dtype = jnp.float32

  @nn.compact
  def __call__(self, z, train: bool = True):
    del train  # No batch statistics; the signature matches the DCGAN generator's.
    act = _activation(self.activation)
    x = z
    for i, f in enumerate(self.hidden):
      x = act(nn.Dense(f, dtype=self.dtype, name=f"dense_{i}")(x))
    x = nn.Dense(int(np.prod(self.image_shape)), dtype=self.dtype, name="out")(x)
    return jnp.tanh(x.astype(jnp.float32)).reshape((z.shape[0], *self.image_shape))


class MLPDiscriminator(nn.Module):
  """Flattened image -> hidden layers -> one logit.

  `maxout_pieces` > 1 makes each hidden layer a maxout layer (units x pieces linear maps,
  max over pieces), as the paper's MNIST discriminator; `dropout_rate` > 0 drops inputs
  to every layer while training (needs the "dropout" rng); `spectral_norm` normalises
  every Dense layer (state in 'batch_stats', see `spectral`).
  """

  hidden: Sequence[int] = (512, 256)
  activation: str = "leaky_relu"
  maxout_pieces: int = 1
  dropout_rate: float = 0.0
  spectral_norm: bool = False
  dtype: jnp.dtype = jnp.float32

  @nn.compact
  def __call__(self, x, train: bool = True):
    act = _activation(self.activation)
    dense = lambda f, name: spectral(
      nn.Dense(f, dtype=self.dtype, name=name), self.spectral_norm, train
    )
    x = x.reshape(x.shape[0], -1)
    for i, f in enumerate(self.hidden):
      x = Dropout(self.dropout_rate, deterministic=not train or self.dropout_rate == 0)(x)
      if self.maxout_pieces > 1:
        x = dense(f * self.maxout_pieces, f"dense_{i}")(x)
        x = jnp.max(x.reshape(x.shape[0], f, self.maxout_pieces), axis=-1)
      else:
        x = act(dense(f, f"dense_{i}")(x))
    x = Dropout(self.dropout_rate, deterministic=not train or self.dropout_rate == 0)(x)
    return dense(1, "out")(x)[:, 0].astype(jnp.float32)


class DCGANGenerator(nn.Module):
  """z -> project and reshape -> fractionally strided 4x4 convs, BatchNorm + ReLU -> tanh.

  `channels` run from the projected map up (the paper's 64x64: (1024, 512, 256, 128),
  projected to 4x4x1024); each entry after the first and the final image layer doubles
  the size, so H and W must be divisible by 2**len(channels). The output layer has no
  BatchNorm, as the paper prescribes.
  """

  image_shape: Sequence[int]
  channels: Sequence[int] = (128, 64)
  bn_momentum: float = 0.9
  dtype: jnp.dtype = jnp.float32

  @nn.compact
  def __call__(self, z, train: bool = True):
    h, w, c = self.image_shape
    n_up = len(self.channels)
    if h % 2**n_up or w % 2**n_up:
      raise ValueError(f"generator output {h}x{w} is not divisible by 2**{n_up}")
    bn = lambda name: nn.BatchNorm(
      use_running_average=not train, momentum=self.bn_momentum, dtype=self.dtype, name=name
    )
    x = nn.Dense(
      (h >> n_up) * (w >> n_up) * self.channels[0],
      kernel_init=DCGAN_INIT,
      dtype=self.dtype,
      name="project",
    )(z)
    x = x.reshape(z.shape[0], h >> n_up, w >> n_up, self.channels[0])
    x = nn.relu(bn("bn_project")(x))
    for i, ch in enumerate(self.channels[1:]):
      x = ConvTransposeUp(
        ch,
        kernel_size=(4, 4),
        strides=(2, 2),
        padding="SAME",
        kernel_init=DCGAN_INIT,
        dtype=self.dtype,
        name=f"up_{i}",
      )(x)
      x = nn.relu(bn(f"bn_{i}")(x))
    x = ConvTransposeUp(
      c,
      kernel_size=(4, 4),
      strides=(2, 2),
      padding="SAME",
      kernel_init=DCGAN_INIT,
      dtype=self.dtype,
      name="out",
    )(x)
    return jnp.tanh(x.astype(jnp.float32))


class DCGANDiscriminator(nn.Module):
  """Image -> strided 4x4 convs with LeakyReLU 0.2, BatchNorm on all but the first ->
  flattened -> one logit (the paper's "single sigmoid output", as a logit).

  `spectral_norm` normalises every conv and the output layer (see `spectral`);
  `batch_norm=False` drops the BatchNorm layers (SN-GAN's discriminator has none, and a
  gradient penalty is per example only without them).
  """

  channels: Sequence[int] = (64, 128)
  bn_momentum: float = 0.9
  spectral_norm: bool = False
  batch_norm: bool = True
  dtype: jnp.dtype = jnp.float32

  @nn.compact
  def __call__(self, x, train: bool = True):
    for i, ch in enumerate(self.channels):
      conv = nn.Conv(
        ch,
        (4, 4),
        strides=(2, 2),
        padding="SAME",
        kernel_init=DCGAN_INIT,
        dtype=self.dtype,
        name=f"conv_{i}",
      )
      x = spectral(conv, self.spectral_norm, train)(x)
      if i > 0 and self.batch_norm:
        x = nn.BatchNorm(
          use_running_average=not train, momentum=self.bn_momentum, dtype=self.dtype, name=f"bn_{i}"
        )(x)
      x = nn.leaky_relu(x, 0.2)
    x = x.reshape(x.shape[0], -1)
    out = nn.Dense(1, kernel_init=DCGAN_INIT, dtype=self.dtype, name="out")
    return spectral(out, self.spectral_norm, train)(x)[:, 0].astype(jnp.float32)
