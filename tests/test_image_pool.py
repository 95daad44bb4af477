"""The image history pool: exact fill phase, then swaps with probability 1/2."""

import jax
import jax.numpy as jnp
import numpy as np

from genjax import image_pool


def _images(values):
  return jnp.asarray(values, jnp.float32).reshape(-1, 1, 1, 1)


def _flat(x):
  return np.asarray(x).ravel()


def test_fill_phase_returns_new_images_and_stores_them_in_order():
  pool = image_pool.init(5, (1, 1, 1))
  query = jax.jit(image_pool.query)
  out, pool = query(pool, _images([1, 2, 3]), jax.random.key(0))
  np.testing.assert_array_equal(_flat(out), [1, 2, 3])
  assert int(pool["count"]) == 3
  out, pool = query(pool, _images([4, 5]), jax.random.key(1))
  np.testing.assert_array_equal(_flat(out), [4, 5])
  np.testing.assert_array_equal(_flat(pool["images"]), [1, 2, 3, 4, 5])
  assert int(pool["count"]) == 5


def test_a_batch_that_fills_the_pool_switches_to_swapping_midway():
  pool = image_pool.init(2, (1, 1, 1))
  query = jax.jit(image_pool.query)  # one compile for the 40 keys
  outs = [_flat(query(pool, _images([1, 2, 3]), jax.random.key(k))[0]) for k in range(40)]
  assert all(o[0] == 1 and o[1] == 2 for o in outs)  # still filling
  # The third image meets a full pool: it is returned or swapped for 1 or 2.
  assert {o[2] for o in outs} == {1.0, 2.0, 3.0}


def test_full_pool_swaps_half_the_time_and_conserves_images():
  size, n = 50, 4000
  start = np.arange(size, dtype=np.float32)
  pool = {"images": _images(start), "count": jnp.asarray(size, jnp.int32)}
  new = np.arange(1000, 1000 + n, dtype=np.float32)
  out, after = jax.jit(image_pool.query)(pool, _images(new), jax.random.key(7))
  out, kept = _flat(out), _flat(after["images"])
  swapped = out != new
  # Binomial(n, 1/2): 4 standard deviations is 126 of 4000.
  assert abs(swapped.sum() - n / 2) < 4 * np.sqrt(n / 4)
  # Nothing is created or lost: what came in is either returned or still stored.
  np.testing.assert_array_equal(
    np.sort(np.concatenate([out, kept])), np.sort(np.concatenate([start, new]))
  )
  # A swapped-out image is an earlier one, never the image being queried.
  assert np.all(out[swapped] < new[swapped])
  assert int(after["count"]) == size


def test_swaps_pick_slots_uniformly():
  size, trials = 10, 4000
  pool = {"images": _images(np.arange(size)), "count": jnp.asarray(size, jnp.int32)}
  query = lambda key: image_pool.query(pool, _images([100]), key)[0]
  out = _flat(jax.jit(jax.vmap(query))(jax.random.split(jax.random.key(3), trials)))
  swapped = out[out != 100].astype(int)  # a stored image's value is its slot
  counts = np.bincount(swapped, minlength=size)
  expected = len(swapped) / size
  chi2 = np.sum((counts - expected) ** 2 / expected)
  assert chi2 < 27.9  # the 0.999 quantile of chi-square with 9 degrees of freedom


def test_size_zero_is_a_pass_through_and_same_key_same_result():
  x = _images([3, 1, 2])
  out, pool = image_pool.query(image_pool.init(0, (1, 1, 1)), x, jax.random.key(0))
  np.testing.assert_array_equal(np.asarray(out), np.asarray(x))
  full = {"images": _images(np.arange(4)), "count": jnp.asarray(4, jnp.int32)}
  a = image_pool.query(full, _images(np.arange(10, 30)), jax.random.key(5))
  b = image_pool.query(full, _images(np.arange(10, 30)), jax.random.key(5))
  np.testing.assert_array_equal(np.asarray(a[0]), np.asarray(b[0]))
