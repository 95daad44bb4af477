#!/usr/bin/env bash
# Wheels for running genjax on an offline GPU machine whose Python already holds a CUDA
# build of jax with flax, optax, orbax-checkpoint, numpy, scipy, matplotlib, pillow,
# absl-py, tqdm, etils, protobuf, psutil, pyarrow, requests and wrapt (as the CUDA JAX
# image these wheels were chosen for does). Run here, where PyPI is reachable:
#
#   bash benchmarks/gpu_wheels.sh [DIR=.whl] [PYTHON_VERSION=3.12]
#
# then copy DIR to the GPU machine and install there, without the network and without
# touching its jax:
#
#   pip install --no-index --no-deps --target /tmp/site DIR/*.whl && export PYTHONPATH=/tmp/site
#
# The list is what setup.cfg's stack adds to such an image (the versions genjax was
# tested with); promise, which tensorflow-datasets needs, is published as source only
# and is built into a wheel here. About 11 MB.
set -euo pipefail
dir=${1:-.whl}
py=${2:-3.12}
mkdir -p "$dir"
wheels=(
  tensorflow-datasets==4.9.10 array_record==0.8.6 grain==0.2.18 ml_collections==1.1.0
  tensorboardX==2.6.5 importlib_resources==7.1.0 dm-tree==0.1.10 immutabledict==4.3.1
  simple-parsing==0.1.9 docstring_parser==0.18.0 tensorflow-metadata==1.21.0
  googleapis-common-protos==1.76.0 termcolor==3.3.0 toml==0.10.2 portpicker==1.6.0
)
platforms=()
for p in manylinux_2_28_x86_64 manylinux_2_27_x86_64 manylinux_2_17_x86_64 manylinux2014_x86_64 any; do
  platforms+=(--platform "$p")
done
for w in "${wheels[@]}"; do
  python3 -m pip download -q --no-deps --only-binary=:all: --python-version "$py" \
    --implementation cp "${platforms[@]}" -d "$dir" "$w"
done
python3 -m pip wheel -q --no-deps -w "$dir" promise==2.3
ls "$dir"
