"""The course notes' claims about each family, checked against a comparison's numbers.

Each claim is split into its parts; each part gets a verdict from a stated rule on the
measured means (and the spread over seeds), and the numbers the rule read. A claim whose
rows were not run (`--only`) is left out. The rules:

- fast / slow: images/s at batch 100 against the other families' (a factor of 10 apart).
- sharp / blurred: sharpness (edge energy over the test digits') within 0.9 of its floor,
  or below it.
- unstable: over seeds, the coefficient of variation of the Fréchet distance above every
  non-GAN family's, or a run that diverged or collapsed.
- diverse / mode coverage: recall at least the median of the other families', and no
  collapsed run.
- quality: a Fréchet distance among the best three rows.
- exact likelihood: bits/dim exact and the lowest of the families that have one.
- not generative: decoded N(0, I) codes further from the data (Fréchet distance) and less
  often realistic (precision) than the VAE's samples from the same prior through a decoder
  of the same size (without a VAE row: further than every generative row).

Each rule reads the final measurements only, never the curve of quality during training,
and no rule reads the Parzen-window column: it is not a likelihood (the likelihood rule
reads bits/dim alone), and it can rank a poor sampler high (Theis et al. 2016).
"""

import math

import numpy as np

NET = "digits"
GANS = ("gan", "dcgan", "gan_paper", "dcgan_paper")  # stabilised, and the papers'
AUTOREGRESSIVE = ("pixelcnn", "gated_pixelcnn", "row_lstm", "diagonal_bilstm")
FD, RECALL, SHARP = f"eval/fd_{NET}", f"eval/recall_{NET}", "eval/sharpness"
PRECISION = f"eval/precision_{NET}"


def _mean(fam, key):
  v = fam["mean"].get(key)
  return v if v is not None and math.isfinite(v) else None


def _speed(fam):
  return fam.get("sampling", {}).get("eval/sample_images_per_sec")


def _cv(fam):
  """Coefficient of variation of the Fréchet distance over seeds (None for one seed)."""
  mean, sd = _mean(fam, FD), fam["sd"].get(FD)
  if mean is None or sd is None or not math.isfinite(sd) or mean <= 0:
    return None
  return sd / mean


def _unsettled(fam) -> int:
  return fam.get("diverged", 0) + len(fam.get("collapsed_seeds", []))


def _verdict(parts) -> str:
  said = [ok for ok in parts if ok is not None]
  if not said:
    return "not measurable here"
  if all(said):
    return "confirmed"
  return "contradicted" if not any(said) else "partly confirmed"


def _part(name, ok, evidence) -> str:
  mark = {True: "yes", False: "no", None: "not measured"}[ok]
  return f"{name}: {mark} ({evidence})"


def check(results: dict) -> list[str]:
  fams = results["families"]
  ddpm = [n for n in fams if n.startswith("ddpm")]
  out = []
  sampled = {n: f for n, f in fams.items() if _mean(f, FD) is not None}
  ranked = sorted(sampled, key=lambda n: _mean(sampled[n], FD))
  speeds = {n: _speed(f) for n, f in fams.items() if _speed(f)}

  def others(names, key, fn=_mean):
    return [fn(f, key) for n, f in fams.items() if n not in names and fn(f, key) is not None]

  def sharp(n):
    s, floor = _mean(fams[n], SHARP), _mean(fams[n], "eval/sharpness_floor")
    return None if s is None or floor is None else s >= 0.9 * floor

  def fast(names, than):
    mine = [speeds[n] for n in names if n in speeds]
    theirs = [speeds[n] for n in than if n in speeds]
    if not mine or not theirs:
      return None
    return min(mine) >= 10 * max(theirs)

  def fmt_speed(names):
    return ", ".join(f"{n} {speeds[n]:.4g}" for n in names if n in speeds)

  def fmt(names, key, digits=3):
    return ", ".join(
      f"{n} {_mean(fams[n], key):.{digits}g}"
      for n in names
      if n in fams and _mean(fams[n], key) is not None
    )

  gans = [n for n in GANS if n in fams]
  if gans:
    slow = [n for n in fams if n in AUTOREGRESSIVE or n in ddpm]
    rest_cv = [c for n, f in fams.items() if n not in GANS for c in [_cv(f)] if c is not None]
    gan_cv = [c for n in gans for c in [_cv(fams[n])] if c is not None]
    unstable = None
    if gan_cv and rest_cv:
      unstable = max(gan_cv) > max(rest_cv) or any(_unsettled(fams[n]) for n in gans)
    collapsed = any(fams[n].get("collapsed_seeds") for n in gans)
    parts = [
      _part(
        "fast",
        fast(gans, slow),
        f"images/s {fmt_speed(gans)}; the iterative samplers {fmt_speed(slow) or '—'}",
      ),
      _part(
        "sharp",
        all(sharp(n) for n in gans) if all(sharp(n) is not None for n in gans) else None,
        f"sharpness {fmt(gans, SHARP, 2)} (real digits {fmt(gans[:1], 'eval/sharpness_floor', 2)})",
      ),
      _part(
        "unstable",
        unstable,
        "Fréchet distance's coefficient of variation over seeds "
        + ", ".join(f"{n} {_cv(fams[n]):.2f}" for n in gans if _cv(fams[n]) is not None)
        + (f" against at most {max(rest_cv):.2f} for the others" if rest_cv else "")
        + f"; runs diverged or collapsed: {sum(_unsettled(fams[n]) for n in gans)}",
      ),
      _part(
        "collapse modes",
        collapsed,
        f"classes covered {fmt(gans, 'eval/classes_covered')}, recall {fmt(gans, RECALL)}",
      ),
    ]
    out.append(_claim("GANs sample fast and sharp but train unstably and collapse modes", parts))

  if "vae" in fams:
    vae = fams["vae"]
    rest_cv = [c for n, f in fams.items() if n != "vae" for c in [_cv(f)] if c is not None]
    stable = None
    if _cv(vae) is not None and rest_cv:
      stable = _cv(vae) <= float(np.median(rest_cv)) and not _unsettled(vae)
    recall = _mean(vae, RECALL)
    rest = others(("vae",), RECALL)
    diverse = None if recall is None or not rest else recall >= float(np.median(rest))
    blur = None if sharp("vae") is None else not sharp("vae")
    parts = [
      _part(
        "stable",
        stable,
        f"coefficient of variation {_cv(vae) if _cv(vae) is None else round(_cv(vae), 2)}"
        + (f" against a median of {np.median(rest_cv):.2f}" if rest_cv else ""),
      ),
      _part(
        "diverse",
        diverse,
        f"recall {fmt(['vae'], RECALL)}"
        + (f" against a median of {np.median(rest):.3f}" if rest else ""),
      ),
      _part(
        "blur",
        blur,
        f"sharpness {fmt(['vae'], SHARP, 2)} "
        f"(real digits {fmt(['vae'], 'eval/sharpness_floor', 2)})",
      ),
    ]
    out.append(_claim("VAEs train stably and diversely but blur", parts))

  if ddpm:
    best = min((n for n in ddpm if n in sampled), key=lambda n: _mean(sampled[n], FD), default=None)
    quality = None if best is None else best in ranked[:3]
    recall = None if best is None else _mean(fams[best], RECALL)
    rest = others(ddpm, RECALL)
    coverage = None
    if recall is not None and rest:
      coverage = recall >= float(np.median(rest)) and not _unsettled(fams[best])
    one_shot = [n for n in fams if n not in ddpm and n not in AUTOREGRESSIVE and n in speeds]
    parts = [
      _part(
        "quality",
        quality,
        f"best sampler {best}, Fréchet distance {fmt([best], FD)}, rank "
        f"{ranked.index(best) + 1 if best else '—'} of {len(ranked)}",
      ),
      _part(
        "mode coverage",
        coverage,
        f"recall {fmt([best], RECALL)}, classes covered {fmt([best], 'eval/classes_covered')}",
      ),
      _part(
        "samples slowly",
        fast(one_shot, ddpm),
        f"images/s {fmt_speed(ddpm)} against {fmt_speed(one_shot)}",
      ),
    ]
    out.append(_claim("Diffusion gives quality and mode coverage but samples slowly", parts))

  ar = [n for n in AUTOREGRESSIVE if n in fams]
  if ar:
    bpd = {n: _mean(f, "eval/bits_per_dim") for n, f in fams.items()}
    bpd = {n: v for n, v in bpd.items() if v is not None}
    best = min(bpd, key=bpd.get) if bpd else None
    one_shot = [n for n in fams if n not in ddpm and n not in AUTOREGRESSIVE and n in speeds]
    parts = [
      _part(
        "the best (exact) likelihood",
        None if best is None else best in ar,
        "test bits/dim "
        + ", ".join(f"{n} {v:.3f}" for n, v in sorted(bpd.items(), key=lambda t: t[1])),
      ),
      _part(
        "generate very slowly",
        fast(one_shot, ar),
        f"images/s {fmt_speed(ar)} against {fmt_speed(one_shot)}",
      ),
    ]
    out.append(
      _claim("PixelRNN / PixelCNN model the exact likelihood but generate very slowly", parts)
    )

  if "autoencoder" in fams and _mean(fams["autoencoder"], FD) is not None:
    ae, prec = _mean(fams["autoencoder"], FD), _mean(fams["autoencoder"], PRECISION)
    if "vae" in sampled:  # the same MLP decoder, trained for the prior it is fed
      vae, vae_prec = _mean(fams["vae"], FD), _mean(fams["vae"], PRECISION)
      ok = ae > vae and (prec is None or vae_prec is None or prec < vae_prec)
      against = f"the VAE's prior samples {vae:.1f}, precision {fmt(['vae'], PRECISION)}"
    else:
      generative = [_mean(f, FD) for n, f in sampled.items() if n != "autoencoder"]
      ok = all(ae > v for v in generative) if generative else None
      against = f"the generative rows' {min(generative, default=float('nan')):.1f} and up"
    parts = [
      _part(
        "not generative",
        ok,
        f"decoded N(0, I) codes: Fréchet distance {ae:.1f}, precision "
        f"{fmt(['autoencoder'], PRECISION)}, against {against}",
      )
    ]
    out.append(_claim("An autoencoder is not generative", parts))
  return out


def _claim(text: str, parts: list) -> str:
  oks = [p.split(": ", 1)[1].startswith("yes") if "not measured" not in p else None for p in parts]
  return f"**{text}**: {_verdict(oks)}. " + "; ".join(parts) + "."
