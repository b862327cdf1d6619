"""The parity ladder: the same weights in every framework, then outputs, loss, gradients, one
optimizer step and a whole training trajectory compared pair by pair, plus scratch's gradients
against central finite differences.  Used by the tests, ``triptych parity`` and the report.
"""
from __future__ import annotations

import itertools
import math
from dataclasses import asdict, dataclass

import numpy as np

from triptych.batching import steps_per_epoch
from triptych.canonical import is_bias, is_state
from triptych.frameworks import FRAMEWORKS, FrameworkUnavailable, get_framework
from triptych.registry import get_spec, resolve
from triptych.tolerances import (ALL_RUNGS, FD_DELTA, KNOWN_DIFFERENCES, MIN_TRAJECTORY_STEPS, PARITY_EPSILONS, RUNGS,
                                 TOLERANCES, parity_epsilon)
from triptych.validate import check_dtype, expected_input_shape


@dataclass
class RungResult:
    model: str
    dtype: str
    rung: int
    rung_name: str
    pair: str  # "scratch↔torch", … or "scratch↔FD"
    value: float  # max abs difference (or max relative where ``relative``)
    tolerance: float | None
    relative: bool
    passed: bool | None  # None: reported only
    detail: str = ""

    @property
    def name(self) -> str:
        return self.rung_name

    def as_dict(self) -> dict:
        return asdict(self)


# ---------------------------------------------------------------- measures


def max_abs(a, b) -> float:
    """max|a − b| over two arrays of one shape.  A NaN or inf in either gives NaN and different shapes give
    inf: both fail every tolerance, wherever they sit."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    if a.shape != b.shape:
        return math.inf
    if not (np.all(np.isfinite(a)) and np.all(np.isfinite(b))):
        return math.nan
    return float(np.max(np.abs(a - b))) if a.size else 0.0


def max_rel(a, b) -> float:
    """max|a − b| / max(max|a|, max|b|): one relative figure for a whole array (NaN/inf as in max_abs)."""
    diff = max_abs(a, b)
    if not math.isfinite(diff):
        return diff
    scale = max(float(np.max(np.abs(np.asarray(a, np.float64)), initial=0.0)),
                float(np.max(np.abs(np.asarray(b, np.float64)), initial=0.0)))
    return diff / scale if scale > 0 else diff


def largest(values: dict) -> str:
    """The key of the largest value, where NaN counts as larger than anything (Python's ``max`` would
    keep or skip a NaN depending on where it stands)."""
    return max(values, key=lambda k: (math.isnan(values[k]), values[k]))


def worst(a: dict, b: dict, measure) -> tuple[float, str]:
    """Largest difference between two dicts of arrays, and the key where it occurs.  A key that only
    one dict has counts as an infinite difference."""
    unmatched = sorted(set(a) ^ set(b))
    if unmatched:
        return math.inf, f"{unmatched[0]} (in one side only)"
    values = {k: measure(a[k], b[k]) for k in a}
    key = largest(values)
    return values[key], key


# ---------------------------------------------------------------- the problem


def parity_problem(model: str, config: dict, n: int, seed: int = 0, seq_len: int | None = None):
    """A small random problem of the right shapes: X, y as the shared loaders return them."""
    rng = np.random.default_rng([seed, 1])
    task = get_spec(model).task
    shape = tuple(seq_len or 7 if s is None else s for s in expected_input_shape(model, config))
    if task == "classification":
        return rng.random((n, *shape)), rng.integers(0, config["num_classes"], n)
    if task == "reconstruction":  # the target is the input
        X = rng.random((n, *shape))
        return X, X.copy()
    X = rng.normal(size=(n, *shape))
    if task == "binary":
        return X, rng.integers(0, 2, (n, 1)).astype(np.float64)
    return X, rng.normal(size=(n, 1))


def parity_weights(scratch_fw, net, seed: int = 0) -> dict[str, np.ndarray]:
    """Scratch's initial weights with every bias, BatchNorm γ and β and moving mean moved off its initial value
    (noise N(0, 0.1²) added) and every moving variance scaled by e^N(0, 0.1²) (it stays positive)."""
    rng = np.random.default_rng([seed, 2])
    weights = scratch_fw.get_weights(net)

    def moved(key, value):  # noise drawn only for the entries it moves (the other models' draws as before)
        part = key.rsplit(".", 1)[-1]
        if not (is_bias(key) or part in ("gamma", "beta", "moving_mean", "moving_variance")):
            return value
        noise = rng.normal(scale=0.1, size=value.shape).astype(value.dtype)
        return value * np.exp(noise) if part == "moving_variance" else value + noise
    return {k: moved(k, v) for k, v in weights.items()}


def known_differences(a: str, b: str) -> dict[str, str]:
    """{name: state entry part} of triptych.tolerances.KNOWN_DIFFERENCES that concern the pair of frameworks a, b."""
    return {name: part for name, (framework, part, _) in KNOWN_DIFFERENCES.items() if framework in (a, b)}


def split_known(weights: dict, parts) -> tuple[dict, dict]:
    """(entries outside the known differences, entries inside them): state entries whose last part is in ``parts``."""
    inside = {k: v for k, v in weights.items() if is_state(k) and k.rsplit(".", 1)[-1] in parts}
    return {k: v for k, v in weights.items() if k not in inside}, inside


# ---------------------------------------------------------------- finite differences


def finite_difference_check(fw, net, X, y, entries: int = 12, delta: float = FD_DELTA, seed: int = 0):
    """Analytic gradients of ``fw`` against (L(a + Δ) − L(a − Δ)) / 2Δ on sampled entries.

    Checks ``entries`` random entries of every parameter and of the input.  Returns
    {name: max relative error}, relative to the largest analytic gradient of that array.
    """
    rng = np.random.default_rng([seed, 3])
    _, grads = fw.loss_and_grads(net, X, y, input_grad=True)
    weights = fw.get_weights(net)
    X = np.array(X, dtype=net.dtype)
    errors = {}

    def loss_at(w, x):
        fw.set_weights(net, w)
        return fw.loss_and_grads(net, x, y)[0]

    for name, grad in grads.items():
        base = X if name == "input" else weights[name]
        flat = rng.choice(base.size, size=min(entries, base.size), replace=False)
        numeric = np.empty(len(flat))
        for j, index in enumerate(flat):
            pos = np.unravel_index(index, base.shape)
            values = []
            for sign in (1, -1):
                moved = base.copy()
                moved[pos] += sign * delta
                values.append(loss_at(weights, moved) if name == "input" else loss_at({**weights, name: moved}, X))
            numeric[j] = (values[0] - values[1]) / (2 * delta)
        analytic = grad.reshape(-1)[flat]
        scale = max(float(np.max(np.abs(grad))), 1e-12)
        errors[name] = float(np.max(np.abs(numeric - analytic)) / scale)
    fw.set_weights(net, weights)
    return errors


# ---------------------------------------------------------------- the ladder


def run_ladder(model: str, dtype: str = "float64", frameworks=None, overrides: dict | None = None,
               seed: int = 0, rungs=ALL_RUNGS) -> list[RungResult]:
    """Every rung for every pair of the available ``frameworks`` (default: all three)."""
    dtype = check_dtype(dtype)
    spec = get_spec(model)
    p = spec.parity
    overrides = {**p.get("overrides", {}), **(overrides or {})}
    config = resolve(model, overrides)
    names = [f for f in (frameworks or FRAMEWORKS)]
    fws = {}
    for name in names:
        try:
            fws[name] = get_framework(name)
        except FrameworkUnavailable:
            if frameworks:  # asked for by name: that is an error
                raise
    if "scratch" not in fws:
        raise ValueError("the parity ladder needs the scratch framework (it provides the shared weights)")
    X, y = parity_problem(model, config, p["n"], seed, p.get("seq_len"))
    nets = {name: fw.build(model, seed=seed, dtype=dtype, **overrides) for name, fw in fws.items()}
    w0 = parity_weights(fws["scratch"], nets["scratch"], seed)
    train_kwargs = dict(lr=p["lr"], optimizer=p["optimizer"], seed=seed)
    if p["optimizer"] in PARITY_EPSILONS:
        train_kwargs["epsilon"] = parity_epsilon(p["optimizer"], dtype)
    results: list[RungResult] = []

    def load_w0():
        for name, fw in fws.items():
            fw.set_weights(nets[name], w0)

    def pair(a, b):  # labels: keras is "keras[jax]" or "keras[torch]" off TensorFlow
        return f"{fws[a].label}↔{fws[b].label}"

    def add(rung, pair, value, detail="", reported=False):
        tol, rel = TOLERANCES[dtype].get(rung, (None, False))
        if reported:  # a known difference: its figure, never a verdict
            tol = None
        passed = False if not math.isfinite(value) else None if tol is None else bool(value <= tol)
        results.append(RungResult(model, dtype, rung, RUNGS[rung], pair, float(value), tol, rel, passed, detail))

    def compare_weights(rung, a, b, wa, wb):
        """Rungs 4–5: (worst difference, its key, state entries compared, a function that adds the known-difference
        rows) over every trainable and state entry outside the pair's known differences; the state those touch is
        reported apart, under the difference's name, after the rung's own row."""
        known = known_differences(a, b)
        (outside_a, inside_a), (outside_b, inside_b) = split_known(wa, known.values()), split_known(wb, known.values())
        value, key = worst(outside_a, outside_b, max_abs)
        state = sum(map(is_state, outside_a))

        def add_known():
            for name, part in known.items():
                only_a = {k: v for k, v in inside_a.items() if k.endswith("." + part)}
                if only_a:
                    diff, where = worst(only_a, {k: v for k, v in inside_b.items() if k.endswith("." + part)}, max_abs)
                    add(rung, pair(a, b), diff, f"known difference '{name}': {len(only_a)} {part} entries, worst "
                                                f"{where}", reported=True)
        return value, key, f" ({state} state entries included)" if state else "", add_known

    pairs = list(itertools.combinations(fws, 2))
    stateful = any(map(is_state, w0))  # BatchNorm: rung 1 in inference and in training mode
    load_w0()
    if 1 in rungs:
        outs = {name: fw.predict(nets[name], X) for name, fw in fws.items()}
        for a, b in pairs:
            add(1, pair(a, b), max_abs(outs[a], outs[b]),
                f"outputs {outs[a].shape}" + (", inference mode (moving statistics)" if stateful else ""))
        if stateful:
            outs = {name: fw.predict(nets[name], X, training=True) for name, fw in fws.items()}
            for a, b in pairs:
                add(1, pair(a, b), max_abs(outs[a], outs[b]), f"outputs {outs[a].shape}, training mode (batch statistics)")
            load_w0()
    if 2 in rungs or 3 in rungs:
        lg = {name: fw.loss_and_grads(nets[name], X, y, input_grad=True) for name, fw in fws.items()}
        for a, b in pairs:
            (la, ga), (lb, gb) = lg[a], lg[b]
            if 2 in rungs:
                rel = TOLERANCES[dtype][2][1]
                add(2, pair(a, b), max_rel(la, lb) if rel else abs(la - lb), f"loss {la:.6g}")
            if 3 in rungs:
                value, key = worst(ga, gb, max_rel if TOLERANCES[dtype][3][1] else max_abs)
                add(3, pair(a, b), value, f"{len(ga)} arrays incl. input; worst {key}")
    if 4 in rungs:
        after = {}
        for name, fw in fws.items():
            fw.set_weights(nets[name], w0)
            fw.train(nets[name], X, y, epochs=1, batch_size=None, **train_kwargs)
            after[name] = fw.get_weights(nets[name])
        for a, b in pairs:
            value, key, state, add_known = compare_weights(4, a, b, after[a], after[b])
            add(4, pair(a, b), value, f"one full-batch {p['optimizer']} step; worst {key}{state}")
            add_known()
    if 5 in rungs:
        steps = p["epochs"] * steps_per_epoch(len(X), p["batch_size"])
        assert steps >= MIN_TRAJECTORY_STEPS, f"{model}: parity trajectory has only {steps} steps"
        traj = {}
        for name, fw in fws.items():
            fw.set_weights(nets[name], w0)
            history = fw.train(nets[name], X, y, epochs=p["epochs"], batch_size=p["batch_size"], **train_kwargs)
            traj[name] = (np.array(history["loss"]), fw.get_weights(nets[name]))
        for a, b in pairs:
            loss_diff = max_abs(traj[a][0], traj[b][0])
            weight_diff, key, state, add_known = compare_weights(5, a, b, traj[a][1], traj[b][1])
            both = {"losses": loss_diff, "weights": weight_diff}
            add(5, pair(a, b), both[largest(both)],
                f"{steps} steps: losses {loss_diff:.2e}, final weights {weight_diff:.2e} ({key}){state}")
            add_known()
    if 6 in rungs and 6 in TOLERANCES[dtype]:
        load_w0()
        errors = finite_difference_check(fws["scratch"], nets["scratch"], X, y, seed=seed)
        key = largest(errors)
        add(6, "scratch↔FD", errors[key], f"{len(errors)} arrays incl. input; worst {key}")
    return sorted(results, key=lambda r: r.rung)


def format_table(results: list[RungResult]) -> str:
    """Plain-text table: one row per (model, dtype, rung, pair)."""
    lines = [f"{'model':<10} {'dtype':<8} {'rung':<22} {'pair':<20} {'max diff':>10} {'tolerance':>12}  result"]
    for r in results:
        tol = "—" if r.tolerance is None else f"{r.tolerance:.0e}{' rel' if r.relative else ''}"
        verdict = "reported" if r.passed is None else ("ok" if r.passed else "FAIL")
        lines.append(f"{r.model:<10} {r.dtype:<8} {r.rung} {r.rung_name:<20} {r.pair:<20} {r.value:>10.2e} "
                     f"{tol:>12}  {verdict}")
    return "\n".join(lines)
