"""The environment variables through which the command line reaches the frameworks, named once.

The CLI sets them before any framework is loaded (``--verbose``, ``--scratch-kernels``); a framework's
set-up reads them (``<package>.setup.configure()``; scratch's kernel choice).

    VERBOSE = "TRIPTYCH_VERBOSE"                 # "1": the frameworks' own start-up lines reach stderr
    SCRATCH_KERNELS = "TRIPTYCH_SCRATCH_KERNELS"  # "fast" (default: scratch/fast/) | "reference"
"""
from __future__ import annotations

import os
from contextlib import contextmanager

VERBOSE = "TRIPTYCH_VERBOSE"
SCRATCH_KERNELS = "TRIPTYCH_SCRATCH_KERNELS"
KERNEL_SETS = ("fast", "reference")  # the first is the default


def verbose() -> bool:
    """Whether start-up lines are wanted (``TRIPTYCH_VERBOSE=1``)."""
    return os.environ.get(VERBOSE, "") == "1"


def set_verbose() -> None:
    os.environ[VERBOSE] = "1"


def check_kernel_set(kind: str, where: str = SCRATCH_KERNELS) -> str:
    if kind not in KERNEL_SETS:
        raise ValueError(f"{where} must be one of {', '.join(KERNEL_SETS)}, got {kind!r}")
    return kind


def selected_kernel_set() -> str:
    """The scratch kernel set ``TRIPTYCH_SCRATCH_KERNELS`` names (unset: "fast"); another value is a ValueError."""
    return check_kernel_set(os.environ.get(SCRATCH_KERNELS, KERNEL_SETS[0]))


def set_kernel_set(kind: str) -> None:
    os.environ[SCRATCH_KERNELS] = check_kernel_set(kind, "--scratch-kernels")


@contextmanager
def kernel_set(kind: str | None):
    """Run the block with ``TRIPTYCH_SCRATCH_KERNELS=kind`` (None: as it is), then restore it."""
    if kind is None:
        yield
        return
    before = os.environ.get(SCRATCH_KERNELS)
    set_kernel_set(kind)
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(SCRATCH_KERNELS, None)
        else:
            os.environ[SCRATCH_KERNELS] = before
