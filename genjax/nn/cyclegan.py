"""CycleGAN's networks (Zhu et al. 2017, App. 7.2): the ResNet generator and the
PatchGAN discriminator, with instance normalisation as in the paper's code.

Generator: c7s1-k, d2k, d4k, R4k x n, u2k, uk, c7s1-C, tanh (reflection padding; the
upsampling layers are the exact fast form of a stride-2 transposed convolution,
genjax.nn.upsample.ConvTransposeUp). Discriminator: C64-C128-C256-C512 then a 1-channel
conv, i.e. `num_layers` stride-2 4x4 convolutions, one stride-1 and the output; with
num_layers=3 each output sees a 70x70 patch (`patch_receptive_field`).

The discriminator's options: `spectral_norm` (Miyato et al. 2018) normalises every conv
through genjax.nn.gan.spectral, its power-iteration vectors in 'batch_stats';
`instance_norm=False` drops its instance normalisation. Instance norm is invariant to the
scale of its input and the layers before each one are positively homogeneous (LeakyReLU,
convs whose biases it subtracts, the first conv's bias aside), so with it kept, spectral
normalisation of those convs barely changes D's function (every kernel but the output's
scaled by 3 moved a small D's scores by about 5e-5): only the output conv's normalisation
bounds anything, the others' reshape gradients. SN-GAN's discriminators have no
normalisation layers, and experiments/configs/cyclegan_digits.py's `sn` removes it.
"""

import flax.linen as nn
import jax.numpy as jnp

from genjax.nn.gan import spectral
from genjax.nn.upsample import ConvTransposeUp


def _reflect(x, p: int):
  return jnp.pad(x, ((0, 0), (p, p), (p, p), (0, 0)), mode="reflect")


def _norm(dtype):
  # Affine-free, as the paper's code (InstanceNorm2d, affine=False).
  return nn.InstanceNorm(use_scale=False, use_bias=False, epsilon=1e-5, dtype=dtype)


class ResnetBlock(nn.Module):
  features: int
  dtype: jnp.dtype = jnp.float32

  @nn.compact
  def __call__(self, x):
    h = nn.Conv(self.features, (3, 3), padding="VALID", dtype=self.dtype)(_reflect(x, 1))
    h = nn.relu(_norm(self.dtype)(h))
    h = nn.Conv(self.features, (3, 3), padding="VALID", dtype=self.dtype)(_reflect(h, 1))
    return x + _norm(self.dtype)(h)


class ResnetGenerator(nn.Module):
  """Image [B, H, W, C] in [-1, 1] -> image of the same shape; H, W divisible by 4."""

  out_channels: int
  features: int = 64  # k of c7s1-k
  num_blocks: int = 9  # 6 for 128x128 in the paper, 9 for 256x256
  dtype: jnp.dtype = jnp.float32

  @nn.compact
  def __call__(self, x):
    if x.shape[1] % 4 or x.shape[2] % 4:
      raise ValueError(f"ResnetGenerator needs H and W divisible by 4, not {x.shape[1:3]}.")
    k = self.features
    h = nn.Conv(k, (7, 7), padding="VALID", dtype=self.dtype)(_reflect(x, 3))
    h = nn.relu(_norm(self.dtype)(h))
    for mult in (2, 4):
      h = nn.Conv(k * mult, (3, 3), strides=(2, 2), padding=((1, 1), (1, 1)), dtype=self.dtype)(h)
      h = nn.relu(_norm(self.dtype)(h))
    for _ in range(self.num_blocks):
      h = ResnetBlock(k * 4, dtype=self.dtype)(h)
    for mult in (2, 1):
      # PyTorch's ConvTranspose2d(k=3, s=2, padding=1, output_padding=1): exactly 2x.
      h = ConvTransposeUp(
        k * mult, (3, 3), strides=(2, 2), padding=((1, 2), (1, 2)), dtype=self.dtype
      )(h)
      h = nn.relu(_norm(self.dtype)(h))
    h = nn.Conv(self.out_channels, (7, 7), padding="VALID", dtype=self.dtype)(_reflect(h, 3))
    return jnp.tanh(h.astype(jnp.float32))


class PatchDiscriminator(nn.Module):
  """Image -> one raw score per overlapping patch, [B, h, w, 1] (LSGAN: no sigmoid).

  `spectral_norm` normalises every conv (state in 'batch_stats', updated only when
  `train`; see genjax.nn.gan.spectral); `instance_norm=False` removes the instance
  normalisation (see the module docstring). Neither changes the parameters' names or
  shapes, and with spectral_norm off there is no state and `train` changes nothing.
  """

  features: int = 64
  num_layers: int = 3
  spectral_norm: bool = False
  instance_norm: bool = True
  dtype: jnp.dtype = jnp.float32

  @nn.compact
  def __call__(self, x, train: bool = True):
    pad = ((1, 1), (1, 1))
    # Unnamed convs keep their automatic names (Conv_0, ...), as before these options.
    conv = lambda features, stride: spectral(
      nn.Conv(features, (4, 4), strides=(stride, stride), padding=pad, dtype=self.dtype),
      self.spectral_norm,
      train,
    )
    h = nn.leaky_relu(conv(self.features, 2)(x), 0.2)
    for n in range(1, self.num_layers + 1):
      stride = 2 if n < self.num_layers else 1
      h = conv(self.features * min(2**n, 8), stride)(h)
      if self.instance_norm:
        h = _norm(self.dtype)(h)
      h = nn.leaky_relu(h, 0.2)
    h = conv(1, 1)(h)
    return h.astype(jnp.float32)


def patch_receptive_field(num_layers: int) -> int:
  """Side of the input patch each PatchDiscriminator output sees (70 for 3 layers)."""
  layers = [(4, 2)] * num_layers + [(4, 1), (4, 1)]
  field = 1
  for kernel, stride in reversed(layers):
    field = (field - 1) * stride + kernel
  return field
