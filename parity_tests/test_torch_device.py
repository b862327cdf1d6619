"""torch on another device (``TRIPTYCH_TORCH_DEVICE``): a clear error where the device is not there, and on a
CUDA machine the whole ladder, scratch on the CPU against torch on the GPU with TF32 off."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest
import torch

from triptych.parity import run_ladder
from triptych.registry import MODELS

CLI = [sys.executable, "-c", "import sys; from triptych.cli import main; sys.exit(main())"]


def cli_on(device: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=300,
                          env={**os.environ, "TRIPTYCH_TORCH_DEVICE": device})


def test_an_unknown_device_is_named_with_what_was_expected():
    out = cli_on("tpu0", "parity", "xor", "--frameworks", "scratch", "torch")
    assert out.returncode == 2
    assert "TRIPTYCH_TORCH_DEVICE='tpu0' is not a torch device; expected cpu or cuda[:N]" in out.stderr


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
def test_cuda_without_a_gpu_says_so():
    out = cli_on("cuda", "parity", "xor", "--frameworks", "scratch", "torch")
    assert out.returncode == 2
    assert "TRIPTYCH_TORCH_DEVICE='cuda', but this torch sees no CUDA device" in out.stderr


cuda = pytest.mark.skipif(os.environ.get("TRIPTYCH_TORCH_DEVICE", "cpu").split(":")[0] != "cuda",
                          reason="set TRIPTYCH_TORCH_DEVICE=cuda on a GPU machine")


@cuda
def test_torch_computes_on_the_gpu_with_tf32_off():
    from triptych.frameworks import get_framework

    net = get_framework("torch").build("mnist_cnn", dtype="float32")
    assert {p.device.type for p in net.native.parameters()} == {"cuda"}
    assert not torch.backends.cuda.matmul.allow_tf32 and not torch.backends.cudnn.allow_tf32


@cuda
@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("model", list(MODELS))
def test_ladder_with_torch_on_the_gpu(model, dtype):
    results = run_ladder(model, dtype, rungs=(1, 2, 3, 4, 5) if dtype == "float64" else (1, 2, 3, 4))
    failed = [r for r in results if r.passed is False]
    assert not failed, "\n".join(f"{r.pair} rung {r.rung}: {r.value:.3e}" for r in failed)
    for r in results:
        print(f"GPU {model} {dtype} rung {r.rung} {r.pair} {r.value:.3e}")
