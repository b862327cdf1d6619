"""The parity ladder of DESIGN.md for every model and every pair, float64 and float32."""
from __future__ import annotations

import numpy as np
import pytest

from triptych.canonical import is_bias
from triptych.frameworks import FRAMEWORKS, get_framework
from triptych.parity import max_abs, parity_problem, parity_weights
from triptych.registry import MODELS, resolve
from triptych.tolerances import TOLERANCES

PAIRS = ["scratch↔torch", "scratch↔keras", "torch↔keras"]


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("model", MODELS)
def test_ladder(ladder, model, dtype):
    results = ladder(model, dtype)
    seen = {(r.rung, r.pair) for r in results}
    for rung in TOLERANCES[dtype]:
        pairs = ["scratch↔FD"] if rung == 6 else PAIRS
        for pair in pairs:
            assert (rung, pair) in seen, f"{model} {dtype}: rung {rung} missing for {pair}"
    failures = [f"rung {r.rung} {r.rung_name} {r.pair}: {r.value:.3e} > {r.tolerance:.0e} ({r.detail})"
                for r in results if r.passed is False]
    assert not failures, f"{model} {dtype}:\n" + "\n".join(failures)


@pytest.mark.parametrize("model", MODELS)
def test_perturbation_of_one_weight_is_caught(model):
    """A check that cannot fail proves nothing: 1e-6 on one weight in torch breaks forward parity."""
    scratch, torch_fw = get_framework("scratch"), get_framework("torch")
    overrides = MODELS[model].parity.get("overrides", {})
    config = resolve(model, overrides)
    X, _ = parity_problem(model, config, 8, seq_len=MODELS[model].parity.get("seq_len"))
    a = scratch.build(model, **overrides)
    b = torch_fw.build(model, **overrides)
    weights = parity_weights(scratch, a)
    scratch.set_weights(a, weights)
    torch_fw.set_weights(b, weights)
    assert max_abs(scratch.predict(a, X), torch_fw.predict(b, X)) <= TOLERANCES["float64"][1][0]
    name = next(k for k in weights if not is_bias(k))
    moved = {k: v.copy() for k, v in weights.items()}
    moved[name].flat[0] += 1e-6
    torch_fw.set_weights(b, moved)
    assert max_abs(scratch.predict(a, X), torch_fw.predict(b, X)) > TOLERANCES["float64"][1][0]


@pytest.mark.parametrize("model", MODELS)
def test_round_trips_are_bit_exact(model):
    """canonical → torch → keras → scratch → canonical reproduces every bit."""
    overrides = MODELS[model].parity.get("overrides", {})
    nets = {name: get_framework(name).build(model, **overrides) for name in FRAMEWORKS}
    weights = parity_weights(get_framework("scratch"), nets["scratch"], seed=5)
    current = weights
    for name in ("torch", "keras", "scratch"):
        fw = get_framework(name)
        fw.set_weights(nets[name], current)
        current = fw.get_weights(nets[name])
    for key, value in weights.items():
        assert current[key].dtype == value.dtype
        assert np.array_equal(current[key], value), key
