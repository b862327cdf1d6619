"""The pytest helper: ``assert_equivalent(torch_model, keras_model, X, **options)``.

    from triptych.testing import assert_equivalent
    def test_port():
        assert_equivalent(MyNet(), build_keras_port(), X, loss="cross_entropy")

Runs :func:`triptych.compare` with the same options and raises an ``AssertionError`` whose message is the rung table
and the first divergence where any rung fails; returns the result where every rung passes.
"""
from __future__ import annotations

from triptych.packages import porting_module


def assert_equivalent(torch_model, keras_model, X, **options):
    result = porting_module("ladder").compare(torch_model, keras_model, X, **options)
    if not result.passed:
        raise AssertionError(f"the torch model and its Keras port differ\n{result.table()}")
    return result
