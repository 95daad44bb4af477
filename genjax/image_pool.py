"""The image history pool of CycleGAN (Shrivastava et al. 2017; Zhu et al. 2017, Sec. 4):
discriminators see a mix of the newest fakes and earlier ones, which damps oscillation.

The pool is a pytree of arrays, so it lives in the train state, is updated inside the
jitted step and is saved with the checkpoint (a resumed run is exact). Semantics follow
the paper's code (util/image_pool.py), image by image in batch order: while the pool is
not full, store the new image and return it; once full, with probability 1/2 return a
uniformly chosen stored image and store the new one in its place, else return the new one.
"""

import jax
import jax.numpy as jnp


def init(size: int, image_shape, dtype=jnp.float32) -> dict:
  """An empty pool for `size` images of shape (H, W, C); size 0 disables it."""
  return {"images": jnp.zeros((size, *image_shape), dtype), "count": jnp.zeros((), jnp.int32)}


def query(pool: dict, images, key):
  """(images for the discriminator [B, ...], updated pool) for a batch of new fakes."""
  size = pool["images"].shape[0]
  if size == 0:
    return images, pool

  def one(carry, inputs):
    stored, count = carry
    image, k = inputs
    k_coin, k_slot = jax.random.split(k)
    full = count >= size
    swap = full & (jax.random.uniform(k_coin) > 0.5)
    # Not full: the next free slot; full: a uniform slot (written only when swapping).
    slot = jnp.where(full, jax.random.randint(k_slot, (), 0, size), count)
    old = stored[slot]
    write = jnp.where(full, swap, True)
    stored = stored.at[slot].set(jnp.where(write, image, old))
    out = jnp.where(swap, old, image)
    return (stored, jnp.minimum(count + 1, size)), out

  keys = jax.random.split(key, images.shape[0])
  (stored, count), out = jax.lax.scan(
    one, (pool["images"], pool["count"]), (images.astype(pool["images"].dtype), keys)
  )
  return out.astype(images.dtype), {"images": stored, "count": count}
