"""Masked convolutions, PixelCNN and Gated PixelCNN (van den Oord et al. 2016a, 2016b).

Every network outputs [B, H, W, C, K]: the K parameters of each sub-pixel's
distribution (genjax/subpixel.py: a Bernoulli logit, 256 softmax logits, or a logistic
mixture). Position (i, j, c) may
depend only on rows above, pixels to the left in row i, and colour channels < c of
pixel (i, j) (the R <= G <= B ordering): feature maps are split into as many channel
groups as the image has colours, and at the kernel centre group g sees input groups < g
(mask A, first layer) or <= g (mask B, later layers).

Besides `__call__` on whole images, each network has the three methods the fast sampler
in genjax/autoregressive.py drives: `init_cache`, `start_row` (work that needs the whole
previous row) and `pixel_step` (the logits of one pixel from cached activations). They
compute the same numbers as `__call__` at that position, for a fraction of the cost.
"""

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

from genjax.nn.fastconv import conv_general_dilated


def channel_groups(features: int, num_colors: int, blocks: int = 1) -> np.ndarray:
  """Colour group of each channel: `blocks` equal blocks (the gates of a gated unit or an
  LSTM), each split into `num_colors` contiguous groups, so gate k of every block is in
  the same group as hidden channel k."""
  per = features // blocks
  return np.tile((np.arange(per) * num_colors) // per, blocks)


def causal_mask(
  kh: int,
  kw: int,
  left: int,
  cin: int,
  cout: int,
  mask: str,
  num_colors: int,
  in_blocks: int = 1,
  out_blocks: int = 1,
) -> np.ndarray:
  """[kh, kw, cin, cout] mask of a kernel whose last row holds the output position at
  column `left`: rows above are free, the last row is cut after the centre, and the
  centre is channel-masked ("A": strictly earlier groups, "B": also the same group).
  "none" masks nothing (the vertical stack, whose causality comes from a shift)."""
  m = np.ones((kh, kw, cin, cout), np.float32)
  if mask == "none":
    return m
  m[kh - 1, left + 1 :] = 0.0
  gi = channel_groups(cin, num_colors, in_blocks)[:, None]
  go = channel_groups(cout, num_colors, out_blocks)[None, :]
  m[kh - 1, left] = (gi < go) if mask == "A" else (gi <= go)
  return m


class MaskedConv(nn.Module):
  """A convolution whose kernel holds only the causal rows: output (i, j) reads input
  rows i-kh+1..i and columns j-left..j-left+kw-1 (a k x k masked kernel's zero bottom
  half is never stored or multiplied)."""

  features: int
  kernel: tuple = (1, 1)
  left: int = 0
  mask: str = "B"
  num_colors: int = 1
  in_blocks: int = 1
  out_blocks: int = 1
  dtype: jnp.dtype = jnp.float32

  def pad(self, x):
    """Zero padding of a whole map so that a `valid` application keeps its size."""
    kh, kw = self.kernel
    return jnp.pad(x, ((0, 0), (kh - 1, 0), (self.left, kw - 1 - self.left), (0, 0)))

  @nn.compact
  def __call__(self, x, valid: bool = False):
    """x: a whole map (valid=False) or an already padded window/slab (valid=True)."""
    kh, kw = self.kernel
    cin = x.shape[-1]
    kernel = self.param("kernel", nn.initializers.lecun_normal(), (kh, kw, cin, self.features))
    bias = self.param("bias", nn.initializers.zeros, (self.features,))
    kernel = kernel * causal_mask(
      kh,
      kw,
      self.left,
      cin,
      self.features,
      self.mask,
      self.num_colors,
      self.in_blocks,
      self.out_blocks,
    )
    if not valid:
      x = self.pad(x)
    y = conv_general_dilated(
      x.astype(self.dtype),
      kernel.astype(self.dtype),
      (1, 1),
      "VALID",
      dimension_numbers=("NHWC", "HWIO", "NHWC"),
    )
    return (y + bias.astype(self.dtype)).astype(jnp.float32)


def window(padded, i, j, kh: int, kw: int):
  """The [B, kh, kw, C] window of a padded map whose valid conv gives output (i, j)."""
  return jax.lax.dynamic_slice(padded, (0, i, j, 0), (padded.shape[0], kh, kw, padded.shape[3]))


def row_slab(padded, i, kh: int):
  """The [B, kh, W + pads, C] rows of a padded map whose valid conv gives output row i."""
  return jax.lax.dynamic_slice_in_dim(padded, i, kh, axis=1)


def write_at(padded, value, i, j, conv: MaskedConv):
  """Stores value [B, 1, 1, C] at output position (i, j) of a map padded for `conv`."""
  return jax.lax.dynamic_update_slice(
    padded, value.astype(padded.dtype), (0, i + conv.kernel[0] - 1, j + conv.left, 0)
  )


class _Head(nn.Module):
  """ReLU, 1x1, ReLU, 1x1 to C x K logits (both mask B: per-pixel channel order)."""

  num_colors: int
  out_per_color: int
  hidden: int
  dtype: jnp.dtype = jnp.float32

  @nn.compact
  def __call__(self, y):
    nc, k = self.num_colors, self.out_per_color
    y = MaskedConv(self.hidden, num_colors=nc, dtype=self.dtype)(nn.relu(y))
    y = MaskedConv(nc * k, num_colors=nc, dtype=self.dtype)(nn.relu(y))
    return y.reshape(y.shape[:-1] + (nc, k))


class PixelCNN(nn.Module):
  """A k0 x k0 mask-A convolution, residual blocks (1x1, k x k mask B, 1x1, as the
  paper's Figure 5), and a two-layer 1x1 head. Has the paper's blind spot: a pixel does
  not see the region up and to the right beyond the kernel's diagonal."""

  num_colors: int = 1
  out_per_color: int = 1
  hidden: int = 32  # h; the residual stream has 2h channels
  num_layers: int = 5  # residual blocks
  kernel: int = 3
  first_kernel: int = 7
  head_hidden: int = 64
  dtype: jnp.dtype = jnp.float32

  def setup(self):
    nc, h, k, k0 = self.num_colors, self.hidden, self.kernel, self.first_kernel
    kw = dict(num_colors=nc, dtype=self.dtype)
    self.conv_in = MaskedConv(2 * h, (k0 // 2 + 1, k0), k0 // 2, "A", **kw)
    self.down = [MaskedConv(h, **kw) for _ in range(self.num_layers)]
    self.spatial = [
      MaskedConv(h, (k // 2 + 1, k), k // 2, "B", **kw) for _ in range(self.num_layers)
    ]
    self.up = [MaskedConv(2 * h, **kw) for _ in range(self.num_layers)]
    self.head = _Head(nc, self.out_per_color, self.head_hidden, self.dtype)

  def __call__(self, x, label=None):
    del label
    y = self.conv_in(x)
    for down, spatial, up in zip(self.down, self.spatial, self.up):
      t = nn.relu(down(nn.relu(y)))
      y = y + up(nn.relu(spatial(t)))
    return self.head(y)

  # The fast sampler: every activation of position (i, j) depends only on pixels before
  # it, so it is computed once, when (i, j) is generated, and cached for the positions
  # after it; only the spatial convolutions' inputs need keeping.
  def init_cache(self, x, label=None):
    del label
    b, hh, ww, _ = x.shape
    return [
      jnp.zeros((b, hh + s.kernel[0] - 1, ww + s.kernel[1] - 1, self.hidden)) for s in self.spatial
    ]

  def start_row(self, cache, x, i, label=None):
    del x, i, label
    return cache

  def pixel_step(self, cache, x, i, j, label=None):
    del label
    k0h, k0w = self.conv_in.kernel
    y = self.conv_in(window(self.conv_in.pad(x), i, j, k0h, k0w), valid=True)
    cache = list(cache)
    for n, (down, spatial, up) in enumerate(zip(self.down, self.spatial, self.up)):
      t = nn.relu(down(nn.relu(y)))
      cache[n] = write_at(cache[n], t, i, j, spatial)
      t = spatial(window(cache[n], i, j, *spatial.kernel), valid=True)
      y = y + up(nn.relu(t))
    return self.head(y)[:, 0, 0], cache


def _gate(a):
  """tanh(a1) * sigmoid(a2), the two halves being the same channel groups."""
  a1, a2 = jnp.split(a, 2, axis=-1)
  return jnp.tanh(a1) * jax.nn.sigmoid(a2)


def shift_down(v):
  """Row i receives row i-1 (zeros in row 0): the vertical stack never sees row i."""
  return jnp.pad(v, ((0, 0), (1, 0), (0, 0), (0, 0)))[:, :-1]


class GatedPixelCNN(nn.Module):
  """Vertical and horizontal stacks without the blind spot, gated tanh * sigmoid units,
  optional class conditioning (a learned bias per class in every gate, the paper's
  h-dependent term for one-hot h)."""

  num_colors: int = 1
  out_per_color: int = 1
  hidden: int = 32
  num_layers: int = 5
  kernel: int = 3
  first_kernel: int = 7
  head_hidden: int = 64
  num_classes: int = 0  # 0: unconditional
  dtype: jnp.dtype = jnp.float32

  def setup(self):
    nc, h, k, k0 = self.num_colors, self.hidden, self.kernel, self.first_kernel
    kw = dict(num_colors=nc, dtype=self.dtype)
    ks = [k0] + [k] * (self.num_layers - 1)
    # The vertical kernel includes row i; shift_down makes that row i-1 before use.
    self.vconv = [
      MaskedConv(2 * h, (q // 2 + 1, q), q // 2, "none", out_blocks=2, **kw) for q in ks
    ]
    self.hconv = [
      MaskedConv(2 * h, (1, q // 2 + 1), q // 2, "A" if n == 0 else "B", out_blocks=2, **kw)
      for n, q in enumerate(ks)
    ]
    self.v2h = [MaskedConv(2 * h, mask="none", out_blocks=2, **kw) for _ in ks]
    self.hres = [MaskedConv(h, **kw) for _ in ks]
    if self.num_classes:
      self.cond_v = [nn.Embed(self.num_classes, 2 * h) for _ in ks]
      self.cond_h = [nn.Embed(self.num_classes, 2 * h) for _ in ks]
    self.head = _Head(nc, self.out_per_color, self.head_hidden, self.dtype)

  def _cond(self, n, label):
    if not self.num_classes:
      return 0.0, 0.0
    return (self.cond_v[n](label)[:, None, None, :], self.cond_h[n](label)[:, None, None, :])

  def _horizontal(self, n, hin, hpre, vpre_above, cv_ch):
    g = _gate(hpre + self.v2h[n](vpre_above) + cv_ch)
    out = self.hres[n](g)
    return out if n == 0 else hin + out

  def __call__(self, x, label=None):
    v, hs = x, x
    for n in range(self.num_layers):
      cv, ch = self._cond(n, label)
      vpre = self.vconv[n](v)
      hs = self._horizontal(n, hs, self.hconv[n](hs), shift_down(vpre), ch)
      v = _gate(vpre + cv)
    return self.head(hs)

  # The fast sampler: the vertical stack of row i-1 is computed once, at the start of
  # row i (it needs the whole row); the horizontal stack one position per pixel.
  def init_cache(self, x, label=None):
    del label
    b, hh, ww, _ = x.shape
    h, L = self.hidden, self.num_layers
    return {
      # Inputs of vertical convs 1..L-1 (conv 0 reads the image), padded.
      "v_in": [
        jnp.zeros((b, hh + c.kernel[0] - 1, ww + c.kernel[1] - 1, h)) for c in self.vconv[1:]
      ],
      # Pre-activations of the row above, for v2h.
      "vpre_above": [jnp.zeros((b, 1, ww, 2 * h)) for _ in range(L)],
      # Inputs of horizontal convs 1..L-1, padded.
      "h_in": [
        jnp.zeros((b, hh + c.kernel[0] - 1, ww + c.kernel[1] - 1, h)) for c in self.hconv[1:]
      ],
    }

  def start_row(self, cache, x, i, label=None):
    cache = {k: list(v) for k, v in cache.items()}
    r = jnp.maximum(i - 1, 0)
    v_in = self.vconv[0].pad(x)
    for n in range(self.num_layers):
      cv, _ = self._cond(n, label)
      conv = self.vconv[n]
      vpre = conv(row_slab(v_in, r, conv.kernel[0]), valid=True)  # [B, 1, W, 2h]
      cache["vpre_above"][n] = jnp.where(i > 0, vpre, 0.0)
      if n + 1 < self.num_layers:
        nxt = self.vconv[n + 1]
        cache["v_in"][n] = jax.lax.dynamic_update_slice(
          cache["v_in"][n], _gate(vpre + cv), (0, r + nxt.kernel[0] - 1, nxt.left, 0)
        )
        v_in = cache["v_in"][n]
    return cache

  def pixel_step(self, cache, x, i, j, label=None):
    cache = dict(cache, h_in=list(cache["h_in"]))
    h_in, hs = self.hconv[0].pad(x), None
    for n in range(self.num_layers):
      _, ch = self._cond(n, label)
      conv = self.hconv[n]
      if n > 0:
        cache["h_in"][n - 1] = write_at(cache["h_in"][n - 1], hs, i, j, conv)
        h_in = cache["h_in"][n - 1]
      hpre = conv(window(h_in, i, j, *conv.kernel), valid=True)
      above = jax.lax.dynamic_slice_in_dim(cache["vpre_above"][n], j, 1, axis=2)
      hs = self._horizontal(n, hs, hpre, above, ch)
    return self.head(hs)[:, 0, 0], cache
