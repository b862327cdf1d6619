"""torch's global set-up, in one explicit call: :func:`configure` (``triptych.frameworks.get_framework``
makes it; a script that imports a ``torch_impl`` module directly calls it first).  Importing this module,
or any other of ``torch_impl``, changes nothing global.

    configure()   # TRIPTYCH_TORCH_DEVICE → the device; on CUDA, TF32 off
    device()      # where torch computes: the configured device (the CPU until configure has run)
"""
from __future__ import annotations

import os

_configured = None  # the torch.device configure() chose


def configure() -> None:
    """Choose the device from ``TRIPTYCH_TORCH_DEVICE`` (default ``cpu``; ``cuda``, ``cuda:1``, … on a GPU
    machine).  On CUDA, TF32 is switched off for matmuls and cuDNN convolutions, so float32 is float32
    (torch would otherwise round convolution inputs to 10-bit mantissas, far outside float32 parity).
    Idempotent: after the first successful call it returns at once.  A device torch does not know, or
    CUDA without a GPU, is a ValueError naming the variable's value and what was expected."""
    global _configured
    if _configured is not None:
        return
    import torch

    name = os.environ.get("TRIPTYCH_TORCH_DEVICE", "cpu")
    try:
        chosen = torch.device(name)
    except RuntimeError:
        raise ValueError(f"TRIPTYCH_TORCH_DEVICE={name!r} is not a torch device; expected cpu or cuda[:N]") from None
    if chosen.type == "cuda":
        if not torch.cuda.is_available():
            raise ValueError(f"TRIPTYCH_TORCH_DEVICE={name!r}, but this torch sees no CUDA device")
        if chosen.index is not None and chosen.index >= torch.cuda.device_count():
            raise ValueError(f"TRIPTYCH_TORCH_DEVICE={name!r}: this machine has {torch.cuda.device_count()} CUDA "
                             f"device(s), cuda:0 … cuda:{torch.cuda.device_count() - 1}")
        torch.backends.cuda.matmul.allow_tf32 = False
        torch.backends.cudnn.allow_tf32 = False
        torch.set_float32_matmul_precision("highest")
    elif chosen.type != "cpu":
        raise ValueError(f"TRIPTYCH_TORCH_DEVICE={name!r}: expected cpu or cuda[:N]")
    elif chosen.index not in (None, 0):  # torch takes cpu:5 and runs on the one CPU device: not what was asked
        raise ValueError(f"TRIPTYCH_TORCH_DEVICE={name!r}: torch has one CPU device; expected cpu (or cpu:0)")
    _configured = chosen


def device():
    """The ``torch.device`` tensors and models go to: :func:`configure`'s choice, the CPU before it ran."""
    if _configured is not None:
        return _configured
    import torch

    return torch.device("cpu")
