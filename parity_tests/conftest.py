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


@pytest.fixture
def registry_snapshot():
    """Whatever a test registers, and the plugins it loads (child processes load the parent's), are gone
    afterwards."""
    from triptych.registry import LOADED_PLUGINS, MODELS, STUDIES

    list(MODELS), list(STUDIES)  # the built-in declarations are loaded before the snapshot
    saved = [(table, dict(table)) for table in (MODELS._items, STUDIES._items, LOADED_PLUGINS)]
    yield
    for table, before in saved:
        table.clear()
        table.update(before)
