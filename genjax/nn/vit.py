"""Vision-transformer blocks and the masked autoencoder's encoder and decoder
(He et al. 2021). Architecture only: masking indices come in from outside.

Pre-norm blocks (LayerNorm eps 1e-6), Xavier-uniform linear layers and fixed 2-D sin-cos
position embeddings, as MAE's reference code. There is no class token: the paper reports
that average pooling of the tokens works as well, and features are that average here.
"""

from typing import Any

import flax.linen as nn
import jax.numpy as jnp

from genjax import patches as P

_dense_init = nn.initializers.xavier_uniform()


class MlpBlock(nn.Module):
  hidden: int
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, x):
    width = x.shape[-1]
    x = nn.Dense(self.hidden, kernel_init=_dense_init, dtype=self.dtype)(x)
    x = nn.gelu(x, approximate=False)
    return nn.Dense(width, kernel_init=_dense_init, dtype=self.dtype)(x)


class TransformerBlock(nn.Module):
  """x + MHSA(LN(x)), then x + MLP(LN(x))."""

  num_heads: int
  mlp_ratio: float = 4.0
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, x):
    y = nn.LayerNorm(epsilon=1e-6, dtype=self.dtype)(x)
    y = nn.MultiHeadDotProductAttention(
      num_heads=self.num_heads, kernel_init=_dense_init, dtype=self.dtype
    )(y)
    x = x + y
    y = nn.LayerNorm(epsilon=1e-6, dtype=self.dtype)(x)
    return x + MlpBlock(int(x.shape[-1] * self.mlp_ratio), dtype=self.dtype)(y)


class Transformer(nn.Module):
  """`depth` blocks and a final LayerNorm."""

  depth: int
  num_heads: int
  mlp_ratio: float = 4.0
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, x):
    for _ in range(self.depth):
      x = TransformerBlock(self.num_heads, self.mlp_ratio, dtype=self.dtype)(x)
    return nn.LayerNorm(epsilon=1e-6, dtype=self.dtype)(x)


class MAE(nn.Module):
  """Encoder on the visible patches only, light decoder on the full sequence.

  `encode(images, ids_keep)` embeds every patch, adds its position, then *gathers* the
  kept tokens, so the encoder never sees (nor depends on) a masked patch.
  `decode(latent, ids_restore)` appends mask tokens, unshuffles to patch order, adds
  the decoder's positions and predicts every patch's pixels [B, N, p*p*C].
  """

  image_shape: tuple
  patch_size: int
  width: int
  depth: int
  num_heads: int
  decoder_width: int
  decoder_depth: int
  decoder_heads: int
  mlp_ratio: float = 4.0
  dtype: Any = jnp.float32

  def setup(self):
    grid = P.grid_shape(self.image_shape, self.patch_size)
    self.num_patches = grid[0] * grid[1]
    self.patch_dim = self.patch_size * self.patch_size * self.image_shape[-1]
    # Fixed, not learned (the paper's choice): constants, so not in the parameters.
    self.pos = jnp.asarray(P.sincos_2d(self.width, grid))[None]
    self.decoder_pos = jnp.asarray(P.sincos_2d(self.decoder_width, grid))[None]
    self.patch_embed = nn.Dense(self.width, kernel_init=_dense_init, dtype=self.dtype)
    self.encoder = Transformer(self.depth, self.num_heads, self.mlp_ratio, dtype=self.dtype)
    self.decoder_embed = nn.Dense(self.decoder_width, kernel_init=_dense_init, dtype=self.dtype)
    self.mask_token = self.param(
      "mask_token", nn.initializers.normal(0.02), (1, 1, self.decoder_width)
    )
    self.decoder = Transformer(
      self.decoder_depth, self.decoder_heads, self.mlp_ratio, dtype=self.dtype
    )
    self.decoder_pred = nn.Dense(self.patch_dim, kernel_init=_dense_init, dtype=self.dtype)

  def encode(self, images, ids_keep=None):
    """[B, H, W, C] -> [B, K, width] on the kept patches (all of them if ids_keep is None)."""
    x = self.patch_embed(P.patchify(images, self.patch_size)) + self.pos
    if ids_keep is not None:
      x = P.gather_tokens(x, ids_keep)
    return self.encoder(x)

  def decode(self, latent, ids_restore):
    """[B, K, width] -> [B, N, p*p*C] predicted pixels (or normalised pixels)."""
    x = self.decoder_embed(latent)
    b, k, d = x.shape
    masks = jnp.broadcast_to(self.mask_token.astype(x.dtype), (b, self.num_patches - k, d))
    x = P.gather_tokens(jnp.concatenate([x, masks], axis=1), ids_restore)
    x = self.decoder(x + self.decoder_pos)
    return self.decoder_pred(x).astype(jnp.float32)

  def features(self, images):
    """[B, width]: the mean of the encoder's tokens on the whole, unmasked image."""
    return jnp.mean(self.encode(images).astype(jnp.float32), axis=1)

  def __call__(self, images, ids_keep, ids_restore):
    return self.decode(self.encode(images, ids_keep), ids_restore)


class ViTClassifier(nn.Module):
  """An MAE encoder under a classification head, as the paper fine-tunes it: the mean of
  the encoder's tokens on the whole image, a LayerNorm (its `fc_norm`), a linear layer.
  Only the encoder's parameters are created; the decoder is never called."""

  mae: MAE
  num_classes: int = 10

  @nn.compact
  def __call__(self, images, *, train: bool = False):
    """Returns (logits, features), as genjax.nn.classifier.Classifier does."""
    del train  # no dropout: the paper regularises fine-tuning by augmentation, not here
    feats = self.mae.features(images)
    logits = nn.Dense(self.num_classes, kernel_init=_dense_init, name="head")(
      nn.LayerNorm(name="fc_norm")(feats)
    )
    return logits.astype(jnp.float32), feats
