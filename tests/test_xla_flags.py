"""launch/xla_flags.py: XLA:CPU's convolutions by XLA's own kernels, for the jaxlib the
flag was measured on, never over a value the user set."""

import jax
import jax.numpy as jnp
import pytest


def test_convolutions_run_on_xlas_own_kernels_not_ynnpacks():
  """The launchers keep XLA:CPU's convolutions off YNNPACK (this session imported `launch`
  in tests/conftest.py): the conv families' training steps took 0.52-0.91x the time."""
  from importlib import metadata

  from launch import xla_flags

  if jax.default_backend() != "cpu" or not xla_flags.applies(metadata.version("jaxlib"), ""):
    pytest.skip("the flag is set on XLA:CPU of the jaxlib it was measured on only")
  x, w = jnp.ones((128, 14, 14, 32)), jnp.ones((3, 3, 32, 32))
  dims = ("NHWC", "HWIO", "NHWC")
  conv = lambda x, w: jax.lax.conv_general_dilated(x, w, (1, 1), "SAME", dimension_numbers=dims)
  lowered = jax.jit(conv).lower(x, w)
  hlo = lowered.compile().as_text()
  assert "convolution(" in hlo and "kind=kCustom" not in hlo
  # the check can fail: YNNPACK's convolution, asked for, is a custom fusion
  ynn = {"xla_cpu_experimental_ynn_fusion_type": "LIBRARY_FUSION_TYPE_INDIVIDUAL_CONVOLUTION"}
  assert "kind=kCustom" in lowered.compile(compiler_options=ynn).as_text()


def test_the_flag_is_added_for_the_measured_jaxlib_only_and_never_over_the_users():
  from launch import xla_flags

  assert xla_flags.applies("0.10.2", "")
  assert xla_flags.applies("0.10.2", "--xla_force_host_platform_device_count=2")
  assert not xla_flags.applies("0.11.0", "")
  assert not xla_flags.applies("0.10.2", f"{xla_flags.FLAG}=dot")
