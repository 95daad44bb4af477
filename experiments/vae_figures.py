"""The VAE paper's figures for a trained workdir: prior samples, reconstructions,
interpolations, the 2-D manifold (Figure 4), the latent space and the bound curves."""
import os

import numpy as np
from scipy.stats import norm

from genjax import data as gdata
from genjax import viz
from genjax.train.writers import read_metrics
from experiments import autoencoder_figures


def make_all(state, ctx, *, encode, decode, reconstruct, sample,
             metric_suffix: str = "") -> list:
  """The paper's figures; `metric_suffix` ends the bounds' names (vae.metric_suffix)."""
  cfg = ctx.config
  params = state.ema_params
  test = gdata.load_split(cfg.data, cfg.eval.split)
  x, labels = test["image"], test["label"]
  out = ctx.figures_dir
  paths = []
  u = viz.to_unit

  paths.append(viz.save_grid(os.path.join(out, "samples_prior.png"),
                             u(sample(state, ctx.key, 100)), ncol=10))

  idx = _one_per_class(labels, per_class=2)
  rows = [u(x[idx]), u(reconstruct(params, x[idx]))]
  if cfg.data.binarize != "none":  # Above the binary input, the grey digit it was drawn from.
    grey_cfg = cfg.data.copy_and_resolve_references()
    with grey_cfg.unlocked():
      grey_cfg.binarize = "none"
    rows.insert(0, u(gdata.load_split(grey_cfg, cfg.eval.split)["image"][idx]))
  paths.append(viz.save_rows(os.path.join(out, "reconstructions.png"), rows))

  # Pairs of different digits, 10 linear steps between their posterior means.
  rows = []
  firsts = _one_per_class(labels, per_class=1)
  for a, b in [(0, 1), (3, 8), (4, 9), (2, 7), (5, 6)]:
    za, zb = encode(params, x[firsts[a]][None]), encode(params, x[firsts[b]][None])
    t = np.linspace(0.0, 1.0, 10)[:, None]
    rows.append(u(decode(params, (1 - t) * za + t * zb)))
  paths.append(viz.save_rows(os.path.join(out, "interpolation.png"), rows))

  latent_dim = int(cfg.model.latent_dim)
  if latent_dim == 2:
    # The paper's Figure 4: decode a grid of the prior's quantiles.
    q = norm.ppf(np.linspace(0.05, 0.95, 20))
    z1, z2 = np.meshgrid(q, q[::-1], indexing="xy")  # z1 left to right, z2 bottom to top
    grid = np.stack([z1, z2], -1).reshape(-1, 2)
    paths.append(viz.save_grid(os.path.join(out, "manifold.png"),
                               u(decode(params, grid.astype(np.float32))), ncol=20))
    paths.append(_scatter(os.path.join(out, "latent_space.png"),
                          np.asarray(encode(params, x)), labels))

  paths.append(_bound_curve(os.path.join(out, "lower_bound.png"), ctx.workdir,
                            cfg.data.batch_size, metric_suffix))
  if ctx.feature_net is not None:
    # The VAE side of "an autoencoder is not generative": prior samples scored by the
    # same protocol as the autoencoders' decoded random codes.
    paths.extend(autoencoder_figures.write_not_generative(
        ctx, encode=lambda x: encode(params, x), decode=lambda z: decode(params, z)))
  return [p for p in paths if p]


def _one_per_class(labels, per_class: int) -> np.ndarray:
  picked = []
  for c in range(10):
    picked.extend(np.flatnonzero(labels == c)[:per_class].tolist())
  return np.asarray(picked)


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
  records = read_metrics(workdir)
  series = {}
  for key, label in (("train/elbo", "train (minibatch ELBO)"), ("eval/elbo", "test ELBO"),
                     ("eval/iw_nll", "test log p(x), IW estimate")):
    key += suffix
    pts = [(r["step"] * batch_size, -r[key] if "nll" in key else r[key])
           for r in records if key in r]
    if pts:
      series[label] = tuple(zip(*pts))
  if not series:
    return None
  unit = "nats per image" + (" (continuous density)" if suffix else "")
  return viz.line_plot(path, series, xlabel="training images seen", ylabel=unit,
                       title="VAE lower bound", logx=True)

