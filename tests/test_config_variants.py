"""Every config with every argument its docstring lists: each loads and sets the fields
it promises, each derives from its family's default, and a wrong argument is one
ValueError that names the known ones."""

import glob
import importlib
import os
import re

import pytest

import experiments

DIR = os.path.join(os.path.dirname(experiments.__file__), "configs")
CONFIGS = sorted(
  os.path.basename(p)[:-3]
  for p in glob.glob(os.path.join(DIR, "*.py"))
  if not p.endswith(("__init__.py", "base.py"))
)
DEFAULTS = {
  "autoencoder": "autoencoder_digits",
  "autoregressive": "pixelcnn_digits",
  "classifier": "classifier_digits",
  "cyclegan": "cyclegan_digits",
  "ddpm": "ddpm_digits",
  "gan": "gan_digits",
  "mae": "mae_digits",
  "vae": "vae_digits",
}
# A sample value of each type, for the arguments that are not flags.
SAMPLE = {"int": "3", "float": "0.5", "str": "x"}


def _get(name, arg=None):
  return importlib.import_module(f"experiments.configs.{name}").get_config(arg)


def _known(name) -> dict:
  """{argument: type} as the config's own error for an unknown argument names them."""
  return {k: v.split(",")[0] for k, v in _described(name).items()}


def _described(name) -> dict:
  """{argument: its description}, e.g. "bool, default True", from that error."""
  with pytest.raises(ValueError, match="unknown config argument 'nonsense'") as e:
    _get(name, "nonsense")
  return dict(re.findall(r"'(\w+)' \(([^)]*)\)", str(e.value)))


def _doc(name, seen=()) -> str:
  """The config's docstring, and those of the configs it names (\"Args as x.py\")."""
  doc = importlib.import_module(f"experiments.configs.{name}").__doc__
  named = set(re.findall(r"(\w+)\.py", doc)) & set(CONFIGS) - {name, *seen}
  return " ".join([doc] + [_doc(n, (*seen, name)) for n in sorted(named)])


def _leaves(d, prefix=""):
  for k, v in d.items():
    if isinstance(v, dict):
      yield from _leaves(v, f"{prefix}{k}.")
    else:
      yield f"{prefix}{k}", v


def _fields(c) -> dict:
  return dict(_leaves(c.to_dict()))


@pytest.mark.parametrize("name", CONFIGS)
def test_every_documented_argument_loads_alone_and_with_smoke(name):
  known = _known(name)
  module = importlib.import_module(f"experiments.configs.{name}")
  assert "smoke" in known
  default = _fields(module.get_config())
  for arg, kind in known.items():
    assert f"`{arg}`" in _doc(name), (name, arg)  # the docstring lists each argument
    text = arg if kind == "bool" else f"{arg}={SAMPLE.get(kind, kind.split(' | ')[-1])}"
    for given in (text, f"smoke,{text}"):
      c = module.get_config(given)
      assert c.family == default["family"] and c.data.batch_size > 0, (name, given)
    if arg != "smoke" and kind == "bool":  # the default, given explicitly, is the default
      value = "true" if "default True" in _described(name)[arg] else "false"
      assert _fields(module.get_config(f"{arg}={value}")) == default, (name, arg)


# (config, argument) -> the fields it promises.
PROMISES = [
  ("vae_digits", "", {"model.latent_dim": 2, "model.backbone": "mlp"}),
  ("vae_digits", "conv", {"model.backbone": "conv"}),
  ("vae_digits", "latent20", {"model.latent_dim": 20}),
  ("vae_digits", "z=7", {"model.latent_dim": 7}),
  ("vae_digits", "logistic", {"objective.likelihood": "logistic_mixture", "data.binarize": "none"}),
  ("vae_digits", "smoke", {"objective.iw_samples": 8, "train.num_steps": 20}),
  ("vae_mnist", "", {"model.latent_dim": 20, "data.name": "mnist", "optim.name": "adagrad"}),
  *[("vae_mnist", f"z={z}", {"model.latent_dim": z}) for z in (3, 5, 10, 20, 200)],
  ("vae_binarized_mnist", "smoke,z=5", {"model.latent_dim": 5, "data.name": "binarized_mnist"}),
  ("autoencoder_mnist", "", {"model.code_dim": 30, "model.hidden": (1000, 500, 250)}),
  ("conv_autoencoder_digits", "", {"model.backbone": "conv", "train.num_steps": 2000}),
  ("sparse_autoencoder_digits", "", {"objective.sparsity_weight": 0.1}),
  ("denoising_autoencoder_digits", "", {"objective.corruption": "masking"}),
  ("denoising_autoencoder_digits", "gaussian", {"objective.corruption": "gaussian"}),
  ("denoising_autoencoder_mnist", "", {"objective.corruption_level": 0.25, "optim.name": "sgd"}),
  ("mae_digits", "", {"objective.mask_ratio": 0.75}),
  ("mae_digits", "ratio80", {"objective.mask_ratio": 0.8}),
  ("mae_cifar10", "ratio80", {"objective.mask_ratio": 0.8, "model.width": 384}),
  ("mae_finetune_digits", "", {"model.init_from": "workdirs/mae_digits"}),
  ("mae_finetune_digits", "scratch", {"model.init_from": ""}),
  ("mae_finetune_digits", "ratio80", {"model.init_from": "workdirs/mae_digits_ratio80"}),
  ("mae_finetune_digits", "smoke", {"model.init_from": "", "model.mae.depth": 1}),
  ("classifier_mnist", "", {"data.name": "mnist", "train.num_steps": 5000}),
  ("cyclegan_horse2zebra", "", {"model.gen_blocks": 9, "train.num_steps": 200 * 1334}),
  ("cyclegan_monet2photo", "", {"data.name": "cycle_gan/monet2photo"}),
  ("ddpm_digits", "", {"data.name": "digits", "model.attn_resolutions": (4,)}),
  ("ddpm_digits", "cosine", {"objective.schedule": "cosine"}),
  ("ddpm_digits", "size=16", {"data.name": "digits/16x16", "model.attn_resolutions": (8,)}),
  ("ddpm_digits", "smoke,size=28", {"data.name": "digits/28x28", "model.ch": 8}),
  ("ddpm_cifar10", "", {"model.ch_mult": (1, 2, 2, 2), "objective.random_flip": True}),
  ("ddpm_celeb_a", "smoke", {"data.image_size": 16, "model.ch_mult": (1, 2)}),
  ("pixelcnn_digits", "", {"model.likelihood": "bernoulli", "data.binarize": "dynamic"}),
  ("pixelcnn_digits", "softmax8bit", {"model.likelihood": "softmax", "data.binarize": "none"}),
  ("pixelcnn_digits", "logistic", {"model.likelihood": "logistic_mixture", "model.num_mix": 5}),
  ("pixelcnn_digits", "naive", {"sample.sampler": "naive"}),
  ("gated_pixelcnn_digits", "conditional", {"model.conditional": True}),
  ("row_lstm_digits", "", {"model.arch": "row_lstm", "model.num_layers": 2}),
  ("pixelcnn_cifar10", "", {"model.likelihood": "softmax", "model.head_hidden": 1024}),
  ("pixelcnn_cifar10", "logistic", {"model.likelihood": "logistic_mixture", "model.num_mix": 10}),
  ("diagonal_bilstm_binarized_mnist", "", {"model.likelihood": "bernoulli", "model.hidden": 16}),
  ("gan_digits", "saturating", {"objective.generator_loss": "minimax"}),
  ("gan_digits", "hinge", {"objective.generator_loss": "hinge"}),
  ("gan_digits", "maxout", {"model.d_maxout_pieces": 5, "model.d_dropout": 0.5}),
  ("gan_digits", "k2", {"objective.d_steps": 2}),
  ("dcgan_digits", "28x28", {"data.name": "digits/28x28"}),
  ("gan_mnist", "lsgan", {"objective.discriminator_loss": "lsgan", "model.d_maxout_pieces": 5}),
  ("dcgan_mnist", "k2", {"objective.d_steps": 2, "model.architecture": "dcgan"}),
  ("dcgan_cifar10", "saturating", {"objective.generator_loss": "minimax"}),
  ("dcgan_celeb_a", "smoke,hinge", {"objective.discriminator_loss": "hinge"}),
]


@pytest.mark.parametrize("name, arg, fields", PROMISES)
def test_each_argument_sets_the_fields_it_promises(name, arg, fields):
  got = _fields(_get(name, arg or None))
  assert {k: got[k] for k in fields} == fields


@pytest.mark.parametrize("name", CONFIGS)
def test_every_config_derives_from_its_family_default(name):
  """Only a family's default builds on base.get_base_config(); every other config has
  exactly the default's fields (a misspelt override would add one)."""
  c = _get(name)
  default = DEFAULTS[c.family]
  with open(os.path.join(DIR, f"{name}.py")) as f:
    assert ("get_base_config(" in f.read()) == (name == default)
  ignore = "model." if name == "mae_finetune_digits" else "\0"  # an MAE encoder inside
  keys = {k for k in _fields(c) if not k.startswith(ignore)}
  assert keys == {k for k in _fields(_get(default)) if not k.startswith(ignore)}


@pytest.mark.parametrize(
  "name, arg, says",
  [
    ("vae_mnist", "z20", "unknown config argument 'z20'"),
    ("vae_mnist", "z=abc", "config argument z='abc' is not an int"),
    ("vae_mnist", "z", "config argument 'z' needs a value"),
    ("vae_digits", "smoke=maybe", "config argument smoke='maybe' is not a bool"),
    ("vae_digits", "latent20,z=5", "latent20 and z=5 disagree"),
    ("ddpm_digits", "size=12", "config argument size=12 is not one of 8, 16, 28"),
    ("ddpm_digits", "size=big", "config argument size='big' is not an int"),
    ("gan_mnist", "maxout", "unknown config argument 'maxout'"),
  ],
)
def test_a_wrong_argument_is_one_line_naming_the_known_ones(name, arg, says):
  with pytest.raises(ValueError) as e:
    _get(name, arg)
  message = str(e.value)
  assert says in message and "\n" not in message
  if "disagree" not in says:
    assert "this config knows 'smoke' (bool)" in message
  if name == "vae_mnist":
    assert "'z' (int, default 20)" in message
  if name == "ddpm_digits":
    assert "'size' (8 | 16 | 28, default 8)" in message
