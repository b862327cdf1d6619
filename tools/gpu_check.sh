#!/usr/bin/env bash
# The GPU check: every model's parity ladder (float64 rungs 1-5, float32 rungs 1-4) with torch on CUDA
# (TRIPTYCH_TORCH_DEVICE=cuda, TF32 off; float32 also without cuDNN) and Keras on JAX, then on torch (each takes the GPU itself), against
# scratch on the CPU.  Needs torch with CUDA, jax and keras; TensorFlow is not used.
# Usage: tools/gpu_check.sh OUTDIR [SECONDS_PER_BACKEND]
set -uo pipefail
out=${1:-.}
limit=${2:-600}
export TRIPTYCH_TORCH_DEVICE=${TRIPTYCH_TORCH_DEVICE:-cuda} NVIDIA_TF32_OVERRIDE=0 JAX_DEFAULT_MATMUL_PRECISION=highest \
       XLA_PYTHON_CLIENT_PREALLOCATE=false PYTHONUNBUFFERED=1 TF_CPP_MIN_LOG_LEVEL=2
nvidia-smi -L | tee "$out/gpu.txt"
KERAS_BACKEND=jax python3 -c "import torch, jax, keras, numpy; print('torch', torch.__version__, 'jax', jax.__version__, 'keras', keras.__version__, 'numpy', numpy.__version__, jax.devices())" | tee -a "$out/gpu.txt"
status=0
for backend in jax torch; do
    KERAS_BACKEND=$backend timeout "$limit" python3 -m pytest -p no:cacheprovider -o addopts= -q -s -rs \
        parity_tests/test_torch_device.py 2>&1 | tee "$out/gpu_ladder_$backend.log" || status=1
done
exit $status
