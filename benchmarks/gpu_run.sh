#!/usr/bin/env bash
# Every accelerator measurement genjax records, in two commands of at most 10 minutes each:
#
#   bash benchmarks/gpu_run.sh [OUT=gpu_results] [PART=all|1|2]
#
# On the GPU machine, from the repository root, with a CUDA build of jax importable (see
# benchmarks/gpu_wheels.sh for the other packages on an offline machine). Each stage has
# its own time limit, so that one slow compile cannot eat the rest. On an H100 most of a
# stage's time is compiling: the DDPM CIFAR-10 step compiled in 30 s, and a digits
# config took about 20 s with its 8-step program, so that in one 10-minute command two
# stages ran out of their limits and the last was cut short (2026-12-05,
# benchmarks/RESULTS.md). Part 1 (590 s of limits): the DDPM step with where its time
# goes and under the variants of step_variants.py, then every digits config in bfloat16.
# Part 2 (590 s): the tests, every other paper config, every digits config in float32.
# Writes, each also to the terminal:
#   OUT/devices.txt      nvidia-smi, jax's devices and the versions
#   OUT/paper_scale.md   paper configs at full size in bfloat16: step time, model FLOPs,
#                        MFU, memory, the paper's training time on this device; the DDPM
#                        row with paper_scale.py --profile's account of its time
#   OUT/variants.md      the DDPM step under XLA options, RNG, dtype, batch, dispatch
#   OUT/throughput.md    every digits config's step: steps/s, GFLOP/s, MFU, best k
#                        (steps per dispatch), peak device memory
#   OUT/tests.txt        bf16 compute for every family and the FLOP counts, on the GPU
# DIGITS and PAPERS (comma-separated config names) replace the lists below, for a dry run.
# Where grain, tensorflow_datasets, ml_collections or tensorboardX are missing, the wheels
# in WHEELS (default .whl, from gpu_wheels.sh) are installed under /tmp/genjax-site first.
# Copy the tables into benchmarks/RESULTS.md with the date, device and this command.
set -uo pipefail
out=${1:-gpu_results}
part=${2:-all}
mkdir -p "$out"
export PYTHONUNBUFFERED=1 TF_CPP_MIN_LOG_LEVEL=2
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"  # genjax and experiments, uninstalled
# The wheels of gpu_wheels.sh, where the stack lacks them (WHEELS: their folder, .whl).
wheels=${WHEELS:-.whl}
if ! python3 -c "import grain, tensorflow_datasets, ml_collections, tensorboardX" 2>/dev/null \
  && [[ -d $wheels ]]; then
  python3 -m pip install -q --no-index --no-deps --no-compile --target /tmp/genjax-site \
    "$wheels"/*.whl
  export PYTHONPATH="$PYTHONPATH:/tmp/genjax-site"
fi
if ! python3 -c "import experiments, genjax.train.loop" 2>"$out/import_error.txt"; then
  echo "genjax does not import here ($(tail -1 "$out/import_error.txt")); see" \
    "benchmarks/gpu_wheels.sh for the packages to bring." >&2
  exit 1
fi
rm -f "$out/import_error.txt"
data=$(mktemp -d)

stage() {  # stage SECONDS FILE COMMAND...: runs it under a time limit, output to FILE too
  local limit=$1 file=$2
  shift 2
  echo "== $* (limit ${limit}s)" | tee -a "$file"
  timeout "$limit" "$@" 2>&1 | grep --line-buffered -v -i -E \
    "warning|^I[0-9]{4}|^W[0-9]{4}|Generating|Shuffling|\[A" | tee -a "$file"
  echo "== exit ${PIPESTATUS[0]}" | tee -a "$file"
}

{
  nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv
  python3 -c "import jax, jaxlib, flax, optax; print(jax.devices()); print('jax', jax.__version__, 'jaxlib', jaxlib.__version__, 'flax', flax.__version__, 'optax', optax.__version__)"
} 2>&1 | tee "$out/devices.txt"

# In order of importance, so that a run cut short still holds what matters most: the
# DDPM U-Net's bf16 MFU (the target this run is for), where its step's time goes and what
# moves it, every digits config in bf16; then the tests, the other paper configs, float32.
digits=vae_digits,vae_digits:conv,autoencoder_digits,conv_autoencoder_digits,gan_digits
digits+=,dcgan_digits,ddpm_digits,ddpm_digits:size=28,pixelcnn_digits,gated_pixelcnn_digits
digits+=,row_lstm_digits,diagonal_bilstm_digits,cyclegan_digits,mae_digits
papers=dcgan_cifar10,pixelcnn_cifar10,mae_cifar10,cyclegan_horse2zebra,vae_mnist,gan_mnist
papers+=,dcgan_celeb_a,gated_pixelcnn_cifar10,row_lstm_cifar10,diagonal_bilstm_cifar10
digits=${DIGITS:-$digits}
papers=${PAPERS:-$papers}
ddpm=${DDPM:-ddpm_cifar10}
throughput=(python3 benchmarks/train_throughput.py --steps=100 --dispatch=8 --data_dir="$data")
# --noapart: every row in one process, without a backend start per row (the stages' limits
# are tight; on the H100 the rows ran in one process within its memory, 2026-12-05)
paper_scale=(python3 benchmarks/paper_scale.py --steps=10 --compute_dtype=bfloat16 --noapart)
if [[ $part != 2 ]]; then
  stage 150 "$out/paper_scale.md" "${paper_scale[@]}" --configs="$ddpm" --profile
  stage 280 "$out/variants.md" python3 benchmarks/step_variants.py --config="$ddpm" \
    --variants=default,f32,k4,nodrop,rbg,no_cmdbuf --rounds=3
  stage 160 "$out/throughput.md" "${throughput[@]}" --compute_dtype=bfloat16 --configs="$digits"
fi
if [[ $part != 1 ]]; then
  stage 120 "$out/tests.txt" python3 -m pytest -q -x -p no:cacheprovider -n 0 \
    tests/test_compute_dtype.py tests/test_flops.py
  stage 200 "$out/paper_scale.md" "${paper_scale[@]}" --configs="$papers"
  stage 270 "$out/throughput.md" "${throughput[@]}" --compute_dtype=float32 --configs="$digits"
fi
