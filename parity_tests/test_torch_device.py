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


def test_importing_torch_impl_changes_nothing_global():
    """Every torch_impl module imports without reading TRIPTYCH_TORCH_DEVICE or touching torch's flags (a bad
    value is not even noticed); torch_impl.setup.configure() reads it and names the bad value."""
    code = """if True:
        import importlib, pkgutil, torch, torch_impl
        def flags():
            return (torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32,
                    torch.get_float32_matmul_precision())
        before = flags()
        names = sorted(m.name for m in pkgutil.iter_modules(torch_impl.__path__))
        for name in names:
            importlib.import_module(f"torch_impl.{name}")
        from torch_impl import setup
        assert flags() == before and setup.device() == torch.device("cpu"), (flags(), before, setup.device())
        try:
            setup.configure()
        except ValueError as exc:
            print(len(names), "modules;", exc)
        """
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                         env={**os.environ, "TRIPTYCH_TORCH_DEVICE": "tpu0"})
    assert out.returncode == 0, out.stderr
    assert "TRIPTYCH_TORCH_DEVICE='tpu0' is not a torch device; expected cpu or cuda[:N]" in out.stdout
    assert int(out.stdout.split()[0]) >= 15  # the ten models, descent, baseline, convert, init, setup, …


def test_a_plugin_loss_hook_still_called_loss_fn_works_and_says_to_rename_it(monkeypatch):
    """The torch loss hook is ``loss()`` in every package; a user's module written with the old ``loss_fn()``
    keeps working (same loss, same gradients) with a FutureWarning naming the rename; neither is a ValueError."""
    from triptych.frameworks import get_framework
    from triptych.parity import parity_problem
    from triptych.registry import resolve
    from torch_impl import linreg
    from torch_impl.training import loss_of

    fw = get_framework("torch")
    X, y = parity_problem("linreg", resolve("linreg", {}), 20)
    net = fw.build("linreg")
    loss, grads = fw.loss_and_grads(net, X, y)
    monkeypatch.setattr(linreg, "loss_fn", linreg.loss, raising=False)
    monkeypatch.delattr(linreg, "loss")
    with pytest.warns(FutureWarning, match=r"torch_impl.linreg: the torch loss hook is now called loss\(\); rename loss_fn"):
        old_loss, old_grads = fw.loss_and_grads(net, X, y)
    assert old_loss == loss and all((old_grads[k] == grads[k]).all() for k in grads)
    monkeypatch.delattr(linreg, "loss_fn")
    with pytest.raises(ValueError, match=r"torch_impl.linreg: a torch model module needs loss\(\) -> nn.Module"):
        loss_of(linreg)


cuda = pytest.mark.skipif(os.environ.get("TRIPTYCH_TORCH_DEVICE", "cpu").split(":")[0] != "cuda",
                          reason="set TRIPTYCH_TORCH_DEVICE=cuda on a GPU machine")


@cuda
def test_torch_computes_on_the_gpu_with_tf32_off():
    from triptych.frameworks import get_framework

    net = get_framework("torch").build("mnist_cnn", dtype="float32")
    assert {p.device.type for p in net.native.parameters()} == {"cuda"}
    assert not torch.backends.cuda.matmul.allow_tf32 and not torch.backends.cudnn.allow_tf32


def ladder_figures(model: str, dtype: str, rungs) -> list:
    results = run_ladder(model, dtype, rungs=rungs)
    for r in results:
        print(f"GPU {model} {dtype} rung {r.rung} {r.pair} {r.value:.3e}")
    return [f"{r.pair} rung {r.rung}: {r.value:.3e} > {r.tolerance:.0e}" for r in results if r.passed is False]


@cuda
@pytest.mark.parametrize("model", list(MODELS))
def test_float64_ladder_with_torch_on_the_gpu(model):
    """As a user runs it: cuDNN on."""
    failed = ladder_figures(model, "float64", (1, 2, 3, 4, 5))
    assert not failed, "\n".join(failed)


@cuda
@pytest.mark.parametrize("model", list(MODELS))
def test_float32_ladder_with_torch_on_the_gpu_without_cudnn(model):
    """float32 holds its tolerances on the GPU with torch's own CUDA kernels; cuDNN's do not (next test)."""
    with torch.backends.cudnn.flags(enabled=False):
        failed = ladder_figures(model, "float32", (1, 2, 3, 4))
    assert not failed, "\n".join(failed)


@cuda
def test_cudnn_float32_rnn_and_conv_gradients_are_not_float32_faithful():
    """Two cuDNN facts (TF32 off, deterministic or not), each beside torch's own kernels on the same GPU:
    its RNN kernel's float32 outputs are ~30× further from the CPU's than float32 rounding (1.1e-5 on
    outputs of ~1: rung 1 fails), and its convolution weight gradient leaves ~1e-10 where the CPU sums to
    exactly 0, which Adam's first step, lr·g/|g|, turns into a full ±lr step (rung 4 fails by lr)."""
    from triptych.frameworks import get_framework
    from triptych.parity import parity_problem, parity_weights
    from triptych.registry import get_spec, resolve

    scratch, torch_fw = get_framework("scratch"), get_framework("torch")

    def differences(model):
        p = get_spec(model).parity
        X, y = parity_problem(model, resolve(model, p.get("overrides", {})), p["n"], 0, p.get("seq_len"))
        X = X.astype("float32")
        nets = [fw.build(model, dtype="float32", **p.get("overrides", {})) for fw in (scratch, torch_fw)]
        w0 = parity_weights(scratch, nets[0], 0)
        for fw, net in zip((scratch, torch_fw), nets):
            fw.set_weights(net, w0)
        outputs = [fw.predict(net, X) for fw, net in zip((scratch, torch_fw), nets)]
        grads = [fw.loss_and_grads(net, X, y)[1] for fw, net in zip((scratch, torch_fw), nets)]
        return float(abs(outputs[0] - outputs[1]).max()), grads

    for enabled in (True, False):
        with torch.backends.cudnn.flags(enabled=enabled):
            rnn_forward, _ = differences("rnn")
            _, (cpu, gpu) = differences("mnist_cnn")
        exact_zeros = cpu["conv2.W"] == 0
        assert exact_zeros.any()
        if enabled:
            assert rnn_forward > 1e-5 and abs(gpu["conv2.W"][exact_zeros]).max() > 0
        else:
            assert rnn_forward < 1e-6 and abs(gpu["conv2.W"][exact_zeros]).max() == 0
