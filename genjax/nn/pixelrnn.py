"""PixelRNN (van den Oord et al. 2016a): Row LSTM and Diagonal BiLSTM.

Both start with a k0 x k0 mask-A convolution, stack LSTM layers with residual
connections (h -> 1x1 mask B -> added to the layer's input), and end with the same
1x1 head as PixelCNN, giving logits [B, H, W, C, K].

- Row LSTM: input-to-state is a masked 1-d convolution along the row (k = 3, mask B,
  so only the left neighbour and the pixel itself), state-to-state a k = 3 convolution
  of the previous row's hidden state; a lax.scan over rows.
- Diagonal BiLSTM: input-to-state is a 1x1 mask-B convolution; the map is skewed (row i
  shifted right by i) so that the state-to-state 2x1 convolution over the previous
  column reads the pixel above and the pixel to the left; a lax.scan over the columns of
  the skewed map. States outside the image are held at zero, which makes each state a
  function of (above, left) alone, and the fast sampler exact. The right-to-left
  direction runs on the flipped map and is shifted down one row, so that it never sees
  the current row.

Colour: the LSTM gates are four blocks, each in the hidden state's channel groups, and
the only connection inside a pixel is the mask-B input-to-state convolution, so channel
c of a pixel depends on channels < c of that pixel only (checked by the tests for 3
channels).
"""

import flax.linen as nn
import jax
import jax.numpy as jnp

from genjax.nn.pixelcnn import MaskedConv, _Head, row_slab, window


def lstm_cell(gates, c):
  """(gates [.., 4h], c [.., h]) -> (h, c); gate blocks in the order i, f, o, g."""
  i, f, o, g = jnp.split(gates, 4, axis=-1)
  c = jax.nn.sigmoid(f) * c + jax.nn.sigmoid(i) * jnp.tanh(g)
  return jax.nn.sigmoid(o) * jnp.tanh(c), c


def row_conv(h, kernel):
  """k = 3 convolution along a row: h [B, W, c], kernel [3, c, c'] -> [B, W, c']."""
  p = jnp.pad(h, ((0, 0), (1, 1), (0, 0)))
  return p[:, :-2] @ kernel[0] + p[:, 1:-1] @ kernel[1] + p[:, 2:] @ kernel[2]


def skew(x):
  """[B, H, W, C] -> [B, H, W + H - 1, C], row i shifted right by i (zeros elsewhere)."""
  b, hh, ww, c = x.shape
  flat = jnp.pad(x, ((0, 0), (0, 0), (0, hh), (0, 0))).reshape(b, hh * (ww + hh), c)
  return flat[:, : hh * (ww + hh - 1)].reshape(b, hh, ww + hh - 1, c)


def unskew(x, width: int):
  """The inverse of `skew`: [B, H, W + H - 1, C] -> [B, H, W, C]."""
  b, hh, t, c = x.shape
  flat = jnp.pad(x.reshape(b, hh * t, c), ((0, 0), (0, hh), (0, 0)))
  return flat.reshape(b, hh, t + 1, c)[:, :, :width]


class _PixelRNN(nn.Module):
  num_colors: int = 1
  out_per_color: int = 1
  hidden: int = 32
  num_layers: int = 2
  first_kernel: int = 7
  head_hidden: int = 64
  dtype: jnp.dtype = jnp.float32

  def _common_setup(self):
    nc, h, k0 = self.num_colors, self.hidden, self.first_kernel
    self.conv_in = MaskedConv(h, (k0 // 2 + 1, k0), k0 // 2, "A", num_colors=nc, dtype=self.dtype)
    self.res = [MaskedConv(h, num_colors=nc, dtype=self.dtype) for _ in range(self.num_layers)]
    self.head = _Head(nc, self.out_per_color, self.head_hidden, self.dtype)

  def _state_kernel(self, name):
    h = self.hidden
    return self.param(name, nn.initializers.lecun_normal(in_axis=-2, out_axis=-1), (h, 4 * h))


class RowLSTM(_PixelRNN):
  """The Row LSTM: a triangular receptive field above the pixel."""

  def setup(self):
    self._common_setup()
    nc, h = self.num_colors, self.hidden
    self.i2s = [
      MaskedConv(4 * h, (1, 2), 1, "B", num_colors=nc, out_blocks=4, dtype=self.dtype)
      for _ in range(self.num_layers)
    ]
    self.s2s = [
      self.param(f"s2s_{n}", nn.initializers.lecun_normal(in_axis=-2, out_axis=-1), (3, h, 4 * h))
      for n in range(self.num_layers)
    ]

  def __call__(self, x, label=None):
    del label
    r = self.conv_in(x)
    b, _, w, h = r.shape
    for n in range(self.num_layers):
      pre = jnp.moveaxis(self.i2s[n](r), 1, 0)  # [H, B, W, 4h]
      kernel = self.s2s[n]

      def step(carry, pre_row, kernel=kernel):
        hs, cs = lstm_cell(pre_row + row_conv(carry[0], kernel), carry[1])
        return (hs, cs), hs

      zeros = jnp.zeros((b, w, h), jnp.float32)
      _, hs = jax.lax.scan(step, (zeros, zeros), pre)
      r = r + self.res[n](jnp.moveaxis(hs, 0, 1))
    return self.head(r)

  # The fast sampler carries each layer's LSTM state of the last finished row and
  # recomputes only the current row: its pixels to the right are not yet drawn, but
  # position j does not depend on them.
  def init_cache(self, x, label=None):
    del label
    zeros = jnp.zeros((x.shape[0], x.shape[2], self.hidden))
    return [(zeros, zeros) for _ in range(self.num_layers)]

  def _row(self, states, x, i):
    """(logits of row i [B, W, C, K], states after row i) from the states of row i-1."""
    conv = self.conv_in
    r = conv(row_slab(conv.pad(x), i, conv.kernel[0]), valid=True)  # [B, 1, W, h]
    new = []
    for n in range(self.num_layers):
      hs, cs = states[n]
      hs, cs = lstm_cell(self.i2s[n](r)[:, 0] + row_conv(hs, self.s2s[n]), cs)
      new.append((hs, cs))
      r = r + self.res[n](hs[:, None])
    return self.head(r)[:, 0], new

  def start_row(self, cache, x, i, label=None):
    del label
    _, new = self._row(cache, x, jnp.maximum(i - 1, 0))
    return jax.tree.map(lambda a, b: jnp.where(i > 0, a, b), new, cache)

  def pixel_step(self, cache, x, i, j, label=None):
    del label
    logits, _ = self._row(cache, x, i)
    return jax.lax.dynamic_index_in_dim(logits, j, axis=1, keepdims=False), cache


class DiagonalBiLSTM(_PixelRNN):
  """The Diagonal BiLSTM: every pixel above and to the left is in the receptive field."""

  def setup(self):
    self._common_setup()
    nc, h = self.num_colors, self.hidden
    conv = lambda: MaskedConv(4 * h, num_colors=nc, out_blocks=4, dtype=self.dtype)
    self.i2s_l = [conv() for _ in range(self.num_layers)]
    self.i2s_r = [conv() for _ in range(self.num_layers)]
    # State-to-state 2x1 kernel over the previous skewed column: the rows i-1 ("up",
    # the pixel above) and i ("left", the pixel to the left).
    self.up_l = [self._state_kernel(f"up_l_{n}") for n in range(self.num_layers)]
    self.left_l = [self._state_kernel(f"left_l_{n}") for n in range(self.num_layers)]
    self.up_r = [self._state_kernel(f"up_r_{n}") for n in range(self.num_layers)]
    self.left_r = [self._state_kernel(f"left_r_{n}") for n in range(self.num_layers)]

  def _direction(self, pre, up, left):
    """Left-to-right diagonal LSTM over input-to-state pre-activations [B, H, W, 4h]."""
    b, hh, ww, _ = pre.shape
    sk = jnp.moveaxis(skew(pre), 2, 0)  # [T, B, H, 4h]
    inside = jnp.moveaxis(skew(jnp.ones((1, hh, ww, 1))), 2, 0)  # [T, 1, H, 1]

    def step(carry, inp):
      hs, cs = carry
      p, m = inp
      above = jnp.pad(hs, ((0, 0), (1, 0), (0, 0)))[:, :-1]
      hs, cs = lstm_cell(p + above @ up + hs @ left, cs)
      return (hs * m, cs * m), hs * m

    zeros = jnp.zeros((b, hh, self.hidden), jnp.float32)
    _, hs = jax.lax.scan(step, (zeros, zeros), (sk, inside))
    return unskew(jnp.moveaxis(hs, 0, 2), ww)

  def __call__(self, x, label=None):
    del label
    r = self.conv_in(x)
    for n in range(self.num_layers):
      hl = self._direction(self.i2s_l[n](r), self.up_l[n], self.left_l[n])
      hr = self._direction(self.i2s_r[n](r)[:, :, ::-1], self.up_r[n], self.left_r[n])
      hr = jnp.pad(hr[:, :, ::-1], ((0, 0), (1, 0), (0, 0), (0, 0)))[:, :-1]
      r = r + self.res[n](hl + hr)
    return self.head(r)

  # The fast sampler: the left-to-right state of (i, j) needs only its left and upper
  # neighbours, so it is one LSTM cell per layer and pixel; the right-to-left direction
  # of row i-1 is one scan along the finished row at the start of row i.
  def init_cache(self, x, label=None):
    del label
    b, _, ww, _ = x.shape
    row = lambda c: jnp.zeros((b, ww, c))
    h, L = self.hidden, self.num_layers
    return {
      "l_above": [(row(h), row(h)) for _ in range(L)],  # (h, c) of row i-1
      "l_row": [(row(h), row(h)) for _ in range(L)],  # (h, c) of row i so far
      "r_above": [(row(h), row(h)) for _ in range(L)],  # right-to-left, row i-1
      "inputs": [row(h) for _ in range(L)],
    }  # layer inputs of row i

  def start_row(self, cache, x, i, label=None):
    del x, label
    new = {
      "l_above": cache["l_row"],
      "l_row": cache["l_row"],
      "inputs": cache["inputs"],
      "r_above": [],
    }
    for n in range(self.num_layers):
      pre = self.i2s_r[n](cache["inputs"][n][:, None])[:, 0]  # [B, W, 4h]
      up, left = self.up_r[n], self.left_r[n]
      above_h, _ = cache["r_above"][n]

      def step(carry, inp, up=up, left=left):
        p, a = inp
        hs, cs = lstm_cell(p + a @ up + carry[0] @ left, carry[1])
        return (hs, cs), (hs, cs)

      zeros = jnp.zeros(pre.shape[:1] + (self.hidden,), jnp.float32)
      xs = (jnp.moveaxis(pre, 1, 0)[::-1], jnp.moveaxis(above_h, 1, 0)[::-1])
      _, (hs, cs) = jax.lax.scan(step, (zeros, zeros), xs)
      new["r_above"].append((jnp.moveaxis(hs[::-1], 0, 1), jnp.moveaxis(cs[::-1], 0, 1)))
    return jax.tree.map(lambda a, b: jnp.where(i > 0, a, b), new, cache)

  def pixel_step(self, cache, x, i, j, label=None):
    del label
    conv = self.conv_in
    r = conv(window(conv.pad(x), i, j, *conv.kernel), valid=True)[:, 0, 0]  # [B, h]
    at = lambda a, k: jax.lax.dynamic_index_in_dim(a, k, axis=1, keepdims=False)
    cache = dict(cache, l_row=list(cache["l_row"]), inputs=list(cache["inputs"]))
    for n in range(self.num_layers):
      cache["inputs"][n] = jax.lax.dynamic_update_index_in_dim(cache["inputs"][n], r, j, 1)
      row_h, row_c = cache["l_row"][n]
      first = j == 0
      h_left = jnp.where(first, 0.0, at(row_h, jnp.maximum(j - 1, 0)))
      c_left = jnp.where(first, 0.0, at(row_c, jnp.maximum(j - 1, 0)))
      pre = self.i2s_l[n](r[:, None, None])[:, 0, 0]
      hs, cs = lstm_cell(
        pre + at(cache["l_above"][n][0], j) @ self.up_l[n] + h_left @ self.left_l[n], c_left
      )
      cache["l_row"][n] = (
        jax.lax.dynamic_update_index_in_dim(row_h, hs, j, 1),
        jax.lax.dynamic_update_index_in_dim(row_c, cs, j, 1),
      )
      out = hs + at(cache["r_above"][n][0], j)
      r = r + self.res[n](out[:, None, None])[:, 0, 0]
    return self.head(r[:, None, None])[:, 0, 0], cache
