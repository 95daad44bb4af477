"""The autoencoder's figures and numbers for a trained workdir: reconstructions, denoising,
and that decoding random codes gives no digits. The code as features for a linear probe
is the `linear_probe` evaluator (genjax/eval/evaluators.py; Experiment.features).

`write_not_generative` is shared with the VAE's figures, so both families are scored by
the same protocol (same classifier, same test images, same number of samples).
"""

import json
import os

import jax
import jax.numpy as jnp
import numpy as np

from experiments.figure_helpers import one_per_class
from genjax import corruption as corruption_lib
from genjax import data as gdata
from genjax import viz
from genjax.eval import frechet


def make_all(state, ctx, *, encode, decode) -> list:
  """encode(params, x) -> codes and decode(params, z) -> images, both jitted."""
  cfg, obj = ctx.config, ctx.config.objective
  params = state.ema_params
  test = gdata.load_split(cfg.data, cfg.eval.split)
  x, labels = test["image"], test["label"]
  out = ctx.figures_dir
  u = viz.to_unit
  paths = []

  idx = one_per_class(labels, per_class=2)
  paths.append(
    viz.labeled_rows(
      os.path.join(out, "reconstructions.png"),
      {"test input": u(x[idx]), "reconstruction": u(decode(params, encode(params, x[idx])))},
    )
  )

  # The eval corruption (the DAE's training corruption in its config), so the figures of
  # every variant show the same noisy inputs.
  noisy = corruption_lib.corrupt(
    jax.random.fold_in(ctx.key, 0),
    jnp.asarray(x[idx]),
    obj.eval_corruption,
    obj.eval_corruption_level,
  )
  paths.append(
    viz.labeled_rows(
      os.path.join(out, "denoising.png"),
      {
        f"corrupted input\n({obj.eval_corruption}, {obj.eval_corruption_level:g})": u(noisy),
        "reconstruction": u(decode(params, encode(params, noisy))),
        "clean input": u(x[idx]),
      },
    )
  )

  if ctx.feature_net is not None:
    paths.extend(
      write_not_generative(
        ctx, encode=lambda v: encode(params, v), decode=lambda z: decode(params, z)
      )
    )
  return [p for p in paths if p]


def not_generative_scores(
  decode, codes_mean, codes_cov, feature_net, key, n, *, real_images
) -> dict:
  """Decodes n codes z ~ N(codes_mean, codes_cov) and scores the images with the digit
  classifier: confidence = mean max class probability (near 1 for clear digits, 0.1 for
  noise), fd = Fréchet distance of its features to those of `real_images`."""
  images = decode_gaussian(decode, codes_mean, codes_cov, key, n)
  return score_images(images, feature_net, real_images)


def decode_gaussian(decode, codes_mean, codes_cov, key, n, batch: int = 500) -> np.ndarray:
  mean = jnp.asarray(codes_mean, jnp.float32)
  cov = jnp.asarray(codes_cov, jnp.float32)
  # SVD, not Cholesky: the fitted covariance of ReLU codes is singular (dead units).
  z = jax.random.multivariate_normal(key, mean, cov, (n,), method="svd")
  return np.concatenate([np.asarray(decode(z[i : i + batch])) for i in range(0, n, batch)])


def score_images(images, feature_net, real_images) -> dict:
  probs, feats = feature_net.outputs(images)
  return {
    "confidence": float(np.mean(probs.max(axis=-1))),
    "fd": frechet.frechet_distance_from_features(feats, feature_net.features(real_images)),
  }


def write_not_generative(ctx, *, encode, decode) -> list:
  """figures/not_generative.{json,png}: images decoded from N(0, I) codes and from a
  Gaussian fitted to the training codes, scored beside reconstructions and real digits.

  encode(x) -> codes (a VAE's posterior means) and decode(z) -> images in [-1, 1] close
  over the parameters. Reference images are the config's data without binarisation.
  """
  cfg = ctx.config
  grey = cfg.data.copy_and_resolve_references()
  with grey.unlocked():
    grey.binarize = "none"
  n = int(cfg.eval.fd_num_samples) or 300
  real = gdata.load_split(grey, cfg.eval.split, max_examples=n)["image"]
  other = gdata.load_split(grey, gdata.train_split(grey), max_examples=len(real))["image"]
  train = gdata.load_split(cfg.data, gdata.train_split(cfg.data))["image"]
  train_codes = _batched(encode, train)
  dim = train_codes.shape[-1]
  gaussians = {
    "standard_normal": (np.zeros(dim), np.eye(dim)),
    "fitted_gaussian": (train_codes.mean(0), np.cov(train_codes, rowvar=False)),
  }
  net = ctx.feature_net
  report = {
    name: not_generative_scores(
      decode, mu, cov, net, jax.random.fold_in(ctx.key, 2), n, real_images=real
    )
    for name, (mu, cov) in gaussians.items()
  }
  test_input = gdata.load_split(cfg.data, cfg.eval.split, max_examples=n)["image"]
  report["reconstructions"] = score_images(
    _batched(lambda v: decode(encode(v)), test_input), net, real
  )
  report["real_train_digits"] = score_images(other, net, real)  # the floor
  report.update(n=len(real), code_dim=int(dim), step=int(ctx.step), family=cfg.family)
  _say(
    "Not generative (confidence, Fréchet distance to test digits): "
    + "; ".join(
      f"{k} {v['confidence']:.3f}, {v['fd']:.1f}" for k, v in report.items() if isinstance(v, dict)
    )
  )
  titles = {
    "standard_normal": "decoded codes\nz ~ N(0, I)"
    + (", the prior" if cfg.family == "vae" else ""),
    "fitted_gaussian": "decoded codes z ~ Gaussian\nfitted to training codes",
  }
  rows = {
    f"{titles[name]}\n(confidence {report[name]['confidence']:.2f})": viz.to_unit(
      decode_gaussian(decode, mu, cov, jax.random.fold_in(ctx.key, 2), 12)
    )
    for name, (mu, cov) in gaussians.items()
  }
  note = (
    f"confidence: the digit classifier's mean top class probability over "
    f"{report['n']} decoded images; real digits "
    f"{report['real_train_digits']['confidence']:.2f}, noise about 0.1"
  )
  return [
    _write_json(os.path.join(ctx.figures_dir, "not_generative.json"), report),
    viz.labeled_rows(
      os.path.join(ctx.figures_dir, "not_generative.png"),
      rows,
      title=f"{cfg.family}: random codes decoded",
      note=note,
    ),
  ]


def _batched(fn, x, batch: int = 500) -> np.ndarray:
  return np.concatenate([np.asarray(fn(x[i : i + batch])) for i in range(0, len(x), batch)])


def _write_json(path, obj) -> str:
  if jax.process_index() == 0:
    with open(path, "w", encoding="utf-8") as f:
      json.dump(obj, f, indent=2, sort_keys=True)
  return path


def _say(message: str) -> None:
  if jax.process_index() == 0:
    print(message, flush=True)
