"""The VAE paper's figures for a trained workdir: prior samples, reconstructions,
interpolations, the 2-D manifold (Figure 4), the latent space and the bound curves."""

import os
import statistics

import numpy as np

from experiments import autoencoder_figures
from experiments.figure_helpers import has_every_class, metric_curves, one_per_class
from genjax import data as gdata
from genjax import viz


def make_all(state, ctx, *, encode, decode, reconstruct, sample, metric_suffix: str = "") -> list:
  """The paper's figures; `metric_suffix` ends the bounds' names (vae.metric_suffix)."""
  cfg = ctx.config
  params = state.ema_params
  test = gdata.load_split(cfg.data, cfg.eval.split)
  x, labels = test["image"], test["label"]
  out = ctx.figures_dir
  paths = []
  u = viz.to_unit

  paths.append(
    viz.save_grid(os.path.join(out, "samples_prior.png"), u(sample(state, ctx.key, 100)), ncol=10)
  )

  idx = one_per_class(labels, per_class=2)
  rows = {}
  if cfg.data.binarize != "none":  # Above the binary input, the grey digit it was drawn from.
    grey_cfg = cfg.data.copy_and_resolve_references()
    with grey_cfg.unlocked():
      grey_cfg.binarize = "none"
    rows["grey test digit"] = u(gdata.load_split(grey_cfg, cfg.eval.split)["image"][idx])
  rows["binarised input" if rows else "test input"] = u(x[idx])
  rows["reconstruction\n(decoder mean)"] = u(reconstruct(params, x[idx]))
  paths.append(viz.labeled_rows(os.path.join(out, "reconstructions.png"), rows))

  # Pairs of different digits, 10 linear steps between their posterior means.
  rows = {}
  firsts = one_per_class(labels, per_class=1)
  every_class = has_every_class(labels)
  for a, b in [(0, 1), (3, 8), (4, 9), (2, 7), (5, 6)]:
    za, zb = encode(params, x[firsts[a]][None]), encode(params, x[firsts[b]][None])
    t = np.linspace(0.0, 1.0, 10)[:, None]
    name = f"digit {a} to {b}" if every_class else f"test image {a + 1} to {b + 1}"
    rows[name] = u(decode(params, (1 - t) * za + t * zb))
  paths.append(
    viz.labeled_rows(
      os.path.join(out, "interpolation.png"),
      rows,
      note="decoded (1 − t) z_a + t z_b, t = 0 … 1, between two test digits' posterior means",
    )
  )

  latent_dim = int(cfg.model.latent_dim)
  if latent_dim == 2:
    # The paper's Figure 4: decode a grid of the prior's quantiles (the standard library's
    # inverse normal CDF: scipy.stats took 1.3 s of every launch's 4.8 s of imports).
    q = np.array([statistics.NormalDist().inv_cdf(p) for p in np.linspace(0.05, 0.95, 20)])
    z1, z2 = np.meshgrid(q, q[::-1], indexing="xy")  # z1 left to right, z2 bottom to top
    grid = np.stack([z1, z2], -1).reshape(-1, 2)
    paths.append(
      viz.save_grid(
        os.path.join(out, "manifold.png"), u(decode(params, grid.astype(np.float32))), ncol=20
      )
    )
    paths.append(
      _scatter(os.path.join(out, "latent_space.png"), np.asarray(encode(params, x)), labels)
    )

  paths.append(
    _bound_curve(
      os.path.join(out, "lower_bound.png"), ctx.workdir, cfg.data.batch_size, metric_suffix
    )
  )
  if ctx.feature_net is not None:
    # The VAE side of "an autoencoder is not generative": prior samples scored by the
    # same protocol as the autoencoders' decoded random codes.
    paths.extend(
      autoencoder_figures.write_not_generative(
        ctx, encode=lambda x: encode(params, x), decode=lambda z: decode(params, z)
      )
    )
  return [p for p in paths if p]


def _scatter(path, z, labels) -> str:
  import matplotlib  # pylint: disable=import-outside-toplevel

  matplotlib.use("Agg")
  import matplotlib.pyplot as plt  # pylint: disable=import-outside-toplevel

  fig, ax = plt.subplots(figsize=(5, 4.5), dpi=120)
  sc = ax.scatter(z[:, 0], z[:, 1], c=labels, cmap="tab10", s=8)
  fig.colorbar(sc, ax=ax, ticks=range(10))
  ax.set_xlabel("z1 (posterior mean)")
  ax.set_ylabel("z2")
  ax.set_title("test digits in the latent space")
  fig.tight_layout()
  fig.savefig(path)
  plt.close(fig)
  return path


def _bound_curve(path, workdir, batch_size, suffix: str = "") -> str | None:
  """The lower bound against training images seen, as the paper's Figure 2."""
  unit = "nats per image" + (",\ncontinuous density" if suffix else "")
  return metric_curves(
    path,
    workdir,
    {
      "train/elbo" + suffix: "train (minibatch ELBO)",
      "eval/elbo" + suffix: "test ELBO",
      "eval/iw_nll" + suffix: ("test log p(x), IW estimate", lambda v: -v),
    },
    xlabel="training images seen",
    ylabel=f"log-likelihood ({unit})",
    title="VAE lower bound",
    x_scale=batch_size,
    logx=True,
  )
