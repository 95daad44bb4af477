"""The seam between a model family and the loop: one immutable bundle of pure functions.

Every family hands the loop the same five things; nothing else about it is known to the
loop. The state is any pytree (a TrainState, or a dict of them for a GAN).
"""

import dataclasses
from typing import Any, Callable, Optional

import jax

State = Any
Batch = dict
Metrics = dict


@dataclasses.dataclass(frozen=True)
class FigureContext:
  """What `figures` may use besides the state; built by launch.reproduce."""

  config: Any
  workdir: str
  figures_dir: str
  step: int
  key: jax.Array
  # genjax.eval.feature_net.FeatureNet resolved by the entry point; None leaves out the
  # figures that need it (a figure function never trains one).
  feature_net: Any = None
  # The evaluators' results on this checkpoint ({"eval/...": float}) when the entry point
  # ran them first (launch.reproduce); a figure that plots a reported number reads it
  # here and never computes it. None or {}: such figures are left out.
  evaluation: Optional[dict] = None


@dataclasses.dataclass(frozen=True)
class Experiment:
  # key -> state
  init: Callable[[jax.Array], State]
  # (state, batch, key) -> (state, {"train/...": scalar}); jitted and donated by the loop.
  train_step: Callable[[State, Batch, jax.Array], tuple[State, Metrics]]
  # (state, batch, key) -> {"eval/...": per-example values of shape [B]}; the loop
  # averages them over the real (unpadded) examples of the split.
  eval_step: Callable[[State, Batch, jax.Array], Metrics]
  # (state, key, n) -> n images NHWC in [-1, 1]; `n` is static.
  sample: Optional[Callable[[State, jax.Array, int], jax.Array]] = None
  # (state, batch, key) -> rows of images made from a batch of B real ones, shape
  # [R, B, H, W, C] in [-1, 1] (a conditional model: CycleGAN's R = 6 rows x, G(x),
  # F(G(x)), y, F(y), G(F(y))); launch.sample calls it on test images.
  sample_given: Optional[Callable[[State, Batch, jax.Array], jax.Array]] = None
  # (state, key, labels int32 [n]) -> n images NHWC in [-1, 1], image i drawn for class
  # labels[i]; a class-conditional model only (what the class_accuracy evaluator scores).
  sample_class: Optional[Callable[[State, jax.Array, jax.Array], jax.Array]] = None
  # (state, FigureContext) -> the paths it wrote into figures_dir (PNGs, and JSON of
  # what a picture shows); runs outside jit.
  figures: Optional[Callable[[State, FigureContext], list]] = None
  # (state, images NHWC in [-1, 1]) -> features [N, D]: the representation a
  # representation-learning family offers (an autoencoder's code, MAE's pooled encoder
  # output); what the linear_probe evaluator scores.
  features: Optional[Callable[[State, jax.Array], jax.Array]] = None
  # ((name, steps, sample(state, key, n)), ...): samplers of the same model beside
  # `sample` (DDPM: DDIM at several step counts, ancestral), each with its own number of
  # sequential steps; what the sampler_sweep evaluator compares.
  samplers: tuple = ()
  # What sample quality compares samples with: True when `sample` draws binarised
  # images (an autoregressive Bernoulli model), so the real images are binarised too.
  binary_samples: bool = False
  # Sequential network evaluations `sample` makes per image (1 for a GAN or VAE
  # decoder, T or S for diffusion, one per sub-pixel for an autoregressive model).
  network_evals_per_sample: int = 1
