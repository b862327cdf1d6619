"""Scratch's set-up (contract 3): ``triptych.frameworks.get_framework("scratch")`` calls :func:`configure`
before it imports ``scratch.framework``.  NumPy needs no global configuration; configure only checks the
kernel choice (``TRIPTYCH_SCRATCH_KERNELS``, :mod:`scratch.kernels`), so a bad value fails at once with an
error naming it, before any model is built."""
from __future__ import annotations

from scratch import kernels


def configure() -> None:
    """Idempotent and cheap: reads one environment variable; a ValueError if it names no kernels."""
    kernels.selected()
