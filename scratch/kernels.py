"""Which implementation of scratch's layers a network built through the framework runs (contract 5).

``TRIPTYCH_SCRATCH_KERNELS`` = ``fast`` (the default, also when unset or empty): the model file's
reference layers swapped for the tuned kernels of ``scratch/fast/`` (:func:`scratch.fast.accelerate`);
``reference``: the model file's layers as written.  Read when a network is built
(:meth:`scratch.framework.ScratchFramework._build`), so a network keeps the kernels it was built with.
"""
from __future__ import annotations

import os

from triptych.settings import KERNEL_SETS as CHOICES, SCRATCH_KERNELS as VARIABLE

DEFAULT = CHOICES[0]


def selected() -> str:
    """"fast" or "reference", from ``TRIPTYCH_SCRATCH_KERNELS``; any other value is a ValueError naming the
    variable, the value and the choices."""
    value = os.environ.get(VARIABLE) or DEFAULT
    if value not in CHOICES:
        raise ValueError(f"{VARIABLE}={value!r} is not a choice of scratch kernels; expected one of "
                         f"{', '.join(CHOICES)} (default {DEFAULT})")
    return value
