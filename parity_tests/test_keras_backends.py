"""Keras on JAX and on torch: the parity ladder with Keras as keras[jax] and keras[torch], each backend
in a child process of its own (Keras reads KERAS_BACKEND once, at import).  Keras on TensorFlow is
test_parity_ladder.py, in this process.

The default run checks one model (house_mlp: minibatches over 7 epochs, so the batch order of every
epoch counts) in float64 on both backends, and the float64 workaround's guard; ``-m backends`` runs
every registered model in float64 and float32 on both.
"""
from __future__ import annotations

import sys

import numpy as np
import pytest

from triptych.backends import KERAS_RUNGS, keras_label, results_of, start_ladders
from triptych.batching import epoch_batches
from triptych.isolation import Child
from triptych.parity import RungResult
from triptych.registry import MODELS

BACKENDS = ("jax", "torch")
DTYPES = ("float64", "float32")
DEFAULT_MODEL = "house_mlp"
_CHILDREN: dict = {}
_SWEEPS: dict = {}


def check_ladder(results: list[RungResult], backend: str, model: str, dtype: str) -> None:
    """Every Keras rung for both pairs with keras[backend] is there and within tolerance."""
    keras = keras_label(backend)
    ours = [r for r in results if r.model == model and r.dtype == dtype]
    seen = {(r.rung, r.pair) for r in ours}
    for rung in KERAS_RUNGS:
        for pair in (f"scratch↔{keras}", f"torch↔{keras}"):
            assert (rung, pair) in seen, f"{model} {dtype}: rung {rung} missing for {pair}"
    failures = [f"rung {r.rung} {r.rung_name} {r.pair}: {r.value:.3e} > {r.tolerance:.0e} ({r.detail})"
                for r in ours if r.passed is False]
    assert not failures, f"{model} {dtype} on {backend}:\n" + "\n".join(failures)


def _probe_then_ladder(backend: str, model: str, dtype: str) -> dict:
    """In a child on ``backend``: what Keras itself makes of float64, then keras_impl's set-up (which
    patches it) and one ladder; and whether TensorFlow got imported."""
    import keras

    from keras_impl import setup
    from triptych.backends import _ladders

    upstream = keras.backend.result_type("float64")
    setup.configure()
    results = _ladders(backend, [(model, dtype)], KERAS_RUNGS, None, [])
    return dict(version=keras.version(), upstream=upstream, patched=keras.backend.result_type("float64"),
                applied=setup.float64_patched, releases=setup.FLOAT64_BUG_RELEASES,
                tensorflow="tensorflow" in sys.modules, results=results)


@pytest.fixture(scope="module")
def probe():
    """probe(backend) -> _probe_then_ladder's dict; both children start at the first call and run
    side by side."""
    def get(backend: str) -> dict:
        if not _CHILDREN:
            _CHILDREN.update({b: Child(f"{__name__}:_probe_then_ladder", dict(backend=b, model=DEFAULT_MODEL,
                                                                             dtype="float64"),
                                       env={"KERAS_BACKEND": b}) for b in BACKENDS})
        if not isinstance(_CHILDREN[backend], dict):
            _CHILDREN[backend] = _CHILDREN[backend].result()
        return _CHILDREN[backend]
    yield get
    for child in _CHILDREN.values():
        if isinstance(child, Child):
            child.close()


@pytest.mark.parametrize("backend", BACKENDS)
def test_default_model_ladder_on_backend_without_tensorflow(probe, backend):
    info = probe(backend)
    check_ladder([RungResult(**r) for r in info["results"]], backend, DEFAULT_MODEL, "float64")
    assert not info["tensorflow"], f"Keras on {backend} imported TensorFlow"


@pytest.mark.parametrize("backend", BACKENDS)
def test_keras_float64_bug_is_still_upstream(probe, backend):
    """keras-team/keras#23704: Keras maps float64 to float32 in result_type off TensorFlow.  The patch
    in keras_impl.setup.configure() applies to the releases in FLOAT64_BUG_RELEASES; this fails as soon as the
    installed Keras disagrees with that list, in either direction."""
    info = probe(backend)
    release = ".".join(info["version"].split(".")[:2])
    if release in info["releases"]:
        assert info["upstream"] == "float32", (
            f"Keras {info['version']} keeps float64 on {backend}: keras-team/keras#23704 is fixed; remove "
            f"keras_impl.setup._patch_float64_result_type and FLOAT64_BUG_RELEASES")
        assert info["applied"] and info["patched"] == "float64"
    else:
        assert info["upstream"] == "float64", (
            f"Keras {info['version']} still computes float64 as float32 on {backend} (keras-team/keras#23704): "
            f"add {release!r} to keras_impl.setup.FLOAT64_BUG_RELEASES")
        assert not info["applied"]


def test_batch_order_follows_the_index_not_the_hook_count():
    """The JAX and torch trainers call PyDataset.on_epoch_begin once more than TensorFlow; the shared
    batches are one endless sequence whose item i is batch i mod steps of epoch i // steps, so extra
    hook calls and out-of-order reads change nothing."""
    from keras_impl import setup

    setup.configure()
    from keras_impl.training import SharedBatches

    X, y = np.arange(20.0)[:, None], np.zeros((20, 1))
    data = SharedBatches(X, y, batch_size=6, seed=3)
    steps = 4
    for i in reversed(range(3 * steps)):  # backwards, with hook calls in between
        data.on_epoch_begin()
        epoch, step = divmod(i, steps)
        assert np.array_equal(data[i][0][:, 0], X[epoch_batches(20, 6, 3, epoch)[step], 0]), i


@pytest.fixture(scope="module")
def sweep():
    """sweep(backend) -> every registered model's ladder in float64 and float32; one child per backend,
    both started at the first call and running side by side."""
    def get(backend: str) -> list[RungResult]:
        if not _SWEEPS:
            _SWEEPS.update({b: start_ladders(b, list(MODELS), DTYPES) for b in BACKENDS})
        if isinstance(_SWEEPS[backend], Child):
            _SWEEPS[backend] = results_of(_SWEEPS[backend])
        return _SWEEPS[backend]
    yield get
    for child in _SWEEPS.values():
        if isinstance(child, Child):
            child.close()


@pytest.mark.backends
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize("backend", BACKENDS)
def test_ladder_on_backend(sweep, backend, model, dtype):
    check_ladder(sweep(backend), backend, model, dtype)


def test_full_report_adds_keras_backends_to_each_models_parity_table():
    """The report's parity tables get keras[jax] and keras[torch] rows (one child per backend, here their
    results given directly); a backend that fails is a failure of every model, not a crash."""
    import reports.run as run

    reports = [run.ModelReport(model, {}) for model in ("xor", "linreg")]
    rows = [RungResult(m, "float64", 1, "forward", pair, 0.0, 1e-12, False, True)
            for m in ("xor", "linreg") for pair in ("scratch↔torch", "scratch↔keras[jax]")]
    run.add_backend_parity(reports, keras_label("jax"), rows)
    run.add_backend_parity(reports, keras_label("torch"), ValueError("no torch today"))
    for report in reports:
        assert [(r.model, r.pair) for r in report.parity] == [(report.model, "scratch↔keras[jax]")]
        assert [f.where for f in report.failures] == ["parity float64 · keras[torch]"]
        assert "no torch today" in report.failures[0].message


@pytest.mark.backends
def test_cli_parity_on_two_backends(capsys):
    from triptych.cli import main

    assert main(["parity", "xor", "--keras-backend", "jax", "torch"]) == 0
    table = capsys.readouterr().out
    for pair in ("scratch↔keras[jax]", "torch↔keras[jax]", "scratch↔keras[torch]", "torch↔keras[torch]"):
        assert sum(f" {pair} " in line for line in table.splitlines()) == 5, pair  # rungs 1–5
    assert sum(" scratch↔torch " in line for line in table.splitlines()) == 5  # once, not once per backend
    assert sum(" scratch↔FD " in line for line in table.splitlines()) == 1
