"""Evaluation over a whole split, and sample quality, for any family."""

import functools

import jax
import jax.numpy as jnp
import numpy as np

from genjax import data as gdata
from genjax.train import mesh as mesh_lib


@functools.lru_cache(maxsize=4)
def make_eval_fn(experiment, mesh):
  """Jits `eval_step` with the batch sharded and per-example outputs left sharded; one per
  (experiment, mesh), so that a later run in this process reuses its traces."""
  repl, sharded = mesh_lib.replicated(mesh), mesh_lib.batch_sharded(mesh)

  def step(state, batch, key):
    return experiment.eval_step(state, batch, key)

  return jax.jit(step, in_shardings=(repl, sharded, repl), out_shardings=sharded)


def evaluate_split(eval_fn, state, config, mesh, *, key, split: str) -> dict:
  """Means of eval_step's per-example metrics over every real example of `split`.

  The eval key is the same for every call, so numbers from different steps differ only
  because the model did.
  """
  sums, count = {}, 0.0
  total = jax.jit(jnp.sum)
  for i, local in enumerate(
    gdata.iterate_eval(
      config.data,
      split,
      process_index=jax.process_index(),
      process_count=jax.process_count(),
      seed=config.seed,
    )
  ):
    batch = mesh_lib.global_batch(local, mesh)
    out = eval_fn(state, batch, jax.random.fold_in(key, i))
    mask = batch["mask"]
    for k, v in out.items():
      sums[k] = sums.get(k, 0.0) + total(v * mask)
    count = count + total(mask)  # Global: every process's real examples.
  return {k: float(v) / float(count) for k, v in sums.items()}


def draw_samples(sample_fn, state, key, n: int, batch: int) -> np.ndarray:
  """n samples in [-1, 1], drawn `batch` at a time so memory stays bounded."""
  chunks = []
  for i, start in enumerate(range(0, n, batch)):
    m = min(batch, n - start)
    chunks.append(np.asarray(sample_fn(state, jax.random.fold_in(key, i), m)))
  return np.concatenate(chunks, axis=0)
