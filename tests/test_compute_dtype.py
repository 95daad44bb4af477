"""train.compute_dtype=bfloat16 for every family: the loop's own step trains with finite
losses, the convolutions and matrix products run in bfloat16, and every parameter stays
float32."""

import importlib

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import experiments
from genjax import data as gdata
from genjax.train import mesh as mesh_lib
from genjax.train.loop import make_step_fn

# One digits config of each family (experiments.FAMILIES) and of each autoregressive
# network, with overrides that only make it smaller. Left out as the same layers in
# bfloat16: gan_digits (dcgan_digits has dense layers, and convolutions and BatchNorm
# besides), the MLP autoencoders (the VAE's MLP; the autoencoder family is here with
# conv_autoencoder_digits, the conv encoder and sub-pixel decoder of vae_digits:conv) and
# the MAE's fine-tuning (a classifier head on the MAE's encoder).
CONFIGS = {
  "vae_digits": {},
  "conv_autoencoder_digits": {},
  "mae_digits": {},
  "classifier_digits": {},
  "dcgan_digits:paper": {},  # its layers; DiffAugment and ADA are no layers
  "cyclegan_digits": {},
  "ddpm_digits": {"model.num_res_blocks": 1},
  "pixelcnn_digits:logistic": {},
  "gated_pixelcnn_digits": {},
  "row_lstm_digits": {"model.num_layers": 1},
  "diagonal_bilstm_digits": {"model.num_layers": 1},
}
_HEAVY = ("dot_general", "conv_general_dilated")


def _heavy_dtypes(jaxpr) -> set:
  """The input dtypes of every matrix product and convolution in `jaxpr` and the
  jaxprs inside it (jit, scan, custom gradients, ...)."""
  found = set()
  for eqn in jaxpr.eqns:
    if eqn.primitive.name in _HEAVY:
      found |= {str(v.aval.dtype) for v in eqn.invars}
    for param in eqn.params.values():
      for sub in param if isinstance(param, (tuple, list)) else (param,):
        if isinstance(sub, jax.extend.core.ClosedJaxpr):
          found |= _heavy_dtypes(sub.jaxpr)
        elif isinstance(sub, jax.extend.core.Jaxpr):
          found |= _heavy_dtypes(sub)
  return found


@pytest.mark.parametrize("name", CONFIGS)
def test_bfloat16_compute_trains_every_family_with_float32_parameters(name, tfds_dir):
  module, _, arg = name.partition(":")
  config = importlib.import_module(f"experiments.configs.{module}").get_config(
    ",".join(filter(None, ("smoke", arg)))
  )
  for path, value in CONFIGS[name].items():
    section, field = path.split(".")
    config[section][field] = value
  config.data.data_dir = tfds_dir
  config.data.batch_size = 4
  config.train.compute_dtype = "bfloat16"
  experiment = experiments.build(config)
  mesh = mesh_lib.make_mesh()
  step_fn = make_step_fn(experiment, mesh, jax.random.key(1))
  state = jax.jit(experiment.init, out_shardings=mesh_lib.replicated(mesh))(jax.random.key(0))
  batch = mesh_lib.global_batch(next(gdata.make_train_iterator(config.data, seed=0)), mesh)

  traced = step_fn.trace(state, batch, jnp.int32(0))  # traced once: checked, then compiled
  assert "bfloat16" in _heavy_dtypes(traced.jaxpr.jaxpr)
  step_fn = traced.lower().compile()
  for step in range(2):
    state, metrics = step_fn(state, batch, jnp.int32(step))
  losses = {k: float(v) for k, v in metrics.items() if "loss" in k}
  assert losses and all(np.isfinite(v) for v in losses.values()), losses
  dtypes = {str(p.dtype) for p in jax.tree.leaves(state)}
  assert {"float32"} <= dtypes and "bfloat16" not in dtypes, dtypes
