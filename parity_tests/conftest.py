"""Shared fixtures: the frameworks, and the parity ladder computed once per (model, dtype)."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from triptych.frameworks import get_framework  # noqa: E402

SHARED_MNIST = Path(__file__).resolve().parents[1].parent / "shared" / "mnist"


@pytest.fixture(scope="session")
def scratch():
    return get_framework("scratch")


@pytest.fixture(scope="session")
def torch_fw():
    return get_framework("torch")


@pytest.fixture(scope="session")
def keras_fw():
    return get_framework("keras")


@pytest.fixture(scope="session", params=["scratch", "torch", "keras"])
def fw(request):
    return get_framework(request.param)


_LADDERS: dict = {}


@pytest.fixture(scope="session")
def ladder():
    """ladder(model, dtype) -> list[RungResult], computed once per session."""
    from triptych.parity import run_ladder

    def get(model: str, dtype: str, **kwargs):
        key = (model, dtype, tuple(sorted(kwargs.items())))
        if key not in _LADDERS:
            _LADDERS[key] = run_ladder(model, dtype, **kwargs)
        return _LADDERS[key]
    return get
