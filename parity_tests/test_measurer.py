"""The measurer under test: the parity ladder's measures and rungs, the finite-difference check, the
learning-rate schedules and data-parallel's logged loss, each against an answer known independently
(a planted difference of known size, a hand-computed update), never by comparing frameworks (a bug
in these shared pieces is the same bug in all three, so parity stays green)."""
from __future__ import annotations

import math

import numpy as np
import pytest

from triptych.frameworks import FRAMEWORKS, TrainPlan, get_framework
from triptych.parity import finite_difference_check, largest, max_abs, max_rel, run_ladder, worst
from triptych.tolerances import TOLERANCES

# ---------------------------------------------------------------- measures


def test_worst_counts_a_key_either_side_alone_has_as_infinite():
    a = {"x.W": np.zeros(2)}
    both = {"x.W": np.zeros(2), "y.b": np.zeros(1)}
    for left, right in ((a, both), (both, a)):
        value, where = worst(left, right, max_abs)
        assert math.isinf(value) and where == "y.b (in one side only)", (value, where)
    assert worst(both, {k: v + 0.0 for k, v in both.items()}, max_abs) == (0.0, "x.W")


def test_max_abs_and_max_rel_against_hand_figures_and_nan_on_either_side():
    assert max_abs([[1.0, 2.0]], [[1.0, 2.0 + 1e-6]]) == pytest.approx(1e-6, rel=1e-9)
    assert max_rel([4.0, -8.0], [4.0, -6.0]) == 0.25  # 2 / max(8, 6)
    for bad in (np.nan, np.inf, -np.inf):
        for a, b in (([0.0, bad], [0.0, 0.0]), ([0.0, 0.0], [0.0, bad])):
            assert math.isnan(max_abs(a, b)) and math.isnan(max_rel(a, b)), (a, b)
    assert largest({"a": 1.0, "b": math.nan, "c": 2.0}) == "b" and largest({"a": 1.0, "c": 2.0}) == "c"


# ---------------------------------------------------------------- finite differences


class _Net:
    dtype = "float64"


class _Quadratic:
    """L(w, x) = ½Σw² + ½Σx² (the gradient is the value itself), with one analytic entry planted off."""

    def __init__(self, planted: float = 0.0, nan_at: float | None = None):
        self.w = {"p.W": np.array([1.0, -2.0, 3.0, 0.5])}
        self.planted, self.nan_at = planted, nan_at

    def get_weights(self, net):
        return {k: v.copy() for k, v in self.w.items()}

    def set_weights(self, net, weights):
        self.w = {k: np.array(v, copy=True) for k, v in weights.items()}

    def loss_and_grads(self, net, X, y, input_grad=False):
        X = np.asarray(X, np.float64)
        loss = 0.5 * float(np.sum(self.w["p.W"] ** 2)) + 0.5 * float(np.sum(X ** 2))
        if self.nan_at is not None and self.w["p.W"][0] > self.nan_at:
            loss = math.nan
        grad = self.w["p.W"].copy()
        grad[2] += self.planted
        grads = {"p.W": grad}
        if input_grad:
            grads["input"] = X.copy()
        return loss, grads


def test_finite_differences_report_the_largest_error_not_the_mean():
    """One of four entries is off by 0.03 against a largest gradient of 3 (+0.03): the maximum relative
    error is 0.03 / 3.03 (the mean would be a quarter of it); the exact input gradient gives ~0."""
    errors = finite_difference_check(_Quadratic(planted=0.03), _Net(), np.array([[0.5, -1.0]]), None, entries=12)
    assert errors["p.W"] == pytest.approx(0.03 / 3.03, rel=1e-6), errors
    assert errors["input"] < 1e-8, errors
    assert finite_difference_check(_Quadratic(), _Net(), np.array([[0.5, -1.0]]), None)["p.W"] < 1e-8


def test_finite_differences_with_a_nan_loss_fail():
    errors = finite_difference_check(_Quadratic(nan_at=1.0), _Net(), np.array([[0.5]]), None)
    assert math.isnan(errors["p.W"]) and largest(errors) == "p.W"


# ---------------------------------------------------------------- the rungs, with a planted difference


def _patch_torch(monkeypatch, hook: str, wrap):
    torch_fw = get_framework("torch")
    real = getattr(type(torch_fw), hook)
    monkeypatch.setattr(type(torch_fw), hook, lambda self, *args: wrap(real(self, *args), *args))


def test_the_trajectory_rung_compares_the_loss_curve_as_well_as_the_final_weights(monkeypatch):
    """torch's recorded loss at step 4 moved by 1e-6, its weights untouched: rung 5 fails with 1e-6."""
    def moved(history, *args):
        history["loss"][3] += 1e-6
        return history

    _patch_torch(monkeypatch, "_train", moved)
    (result,) = run_ladder("xor", frameworks=["scratch", "torch"], rungs=(5,))
    assert result.passed is False and result.value == pytest.approx(1e-6, rel=1e-3), result
    assert "losses 1.00e-06" in result.detail, result.detail


def test_a_1e_6_change_to_one_weight_fails_every_rung_it_reaches(monkeypatch):
    """torch's copy of hidden1.W[0, 1] is 1e-6 off whenever weights are loaded: rungs 1 to 5 fail."""
    def nudged(_, net, weights):
        with __import__("torch").no_grad():
            next(net.native.parameters())[1, 0] += 1e-6  # the first layer's (out, in): hidden1.W[0, 1]

    _patch_torch(monkeypatch, "_set", nudged)
    results = run_ladder("xor", frameworks=["scratch", "torch"], rungs=(1, 2, 3, 4, 5))
    assert {r.rung: r.passed for r in results} == {1: False, 2: False, 3: False, 4: False, 5: False}, \
        [(r.rung, r.value) for r in results]
    step = next(r for r in results if r.rung == 4)
    assert step.value == pytest.approx(1e-6, rel=0.2) and "hidden1.W" in step.detail, step


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("rung, hook", [(1, "_predict"), (2, "_loss_and_grads"), (3, "_loss_and_grads"),
                                        (4, "_get"), (5, "_train")])
def test_a_nan_anywhere_fails_its_rung_in_either_dtype(monkeypatch, rung, hook, dtype):
    """A NaN put into torch's outputs, loss, last gradient, last weight or last recorded loss fails the rung,
    also where the tolerance is None (float32 trajectories)."""
    def poisoned(value, *args):
        if hook == "_predict":
            value = value.copy()
            value[-1, -1] = np.nan
        elif hook == "_loss_and_grads":
            loss, grads, dx = value
            if rung == 2:
                loss = math.nan
            else:
                grads = dict(grads)
                last = list(grads)[-1]
                grads[last] = np.asarray(grads[last], np.float64).copy()
                grads[last].reshape(-1)[-1] = np.nan
            value = (loss, grads, dx)
        elif hook == "_get":
            value = {k: np.array(v, np.float64) for k, v in value.items()}
            value[list(value)[-1]].reshape(-1)[-1] = np.nan
        else:
            value["loss"][-1] = math.nan
        return value

    _patch_torch(monkeypatch, hook, poisoned)
    rungs = (rung,) if rung != 4 else (4,)
    results = [r for r in run_ladder("xor", dtype=dtype, frameworks=["scratch", "torch"], rungs=rungs)
               if r.rung == rung]
    assert results and all(r.passed is False for r in results), [(r.rung, r.value, r.passed) for r in results]


def test_tolerances_are_the_documented_table():
    """docs/parity.md's table, restated: a loosened tolerance or a rung made relative is caught."""
    assert TOLERANCES == {
        "float64": {1: (1e-12, False), 2: (1e-12, False), 3: (1e-10, False), 4: (1e-12, False), 5: (1e-9, False),
                    6: (1e-6, True)},
        "float32": {1: (1e-5, False), 2: (1e-6, True), 3: (1e-4, True), 4: (1e-6, False), 5: (None, False)},
    }


# ---------------------------------------------------------------- learning-rate schedules


def _plan(decay: str, rate: float) -> TrainPlan:
    return TrainPlan(epochs=6, batch_size=None, lr=0.1, optimizer="sgd", options={}, seed=0, lr_decay=decay,
                     decay_rate=rate)


def test_linear_decay_per_epoch_from_the_full_rate_and_floored_at_zero():
    """lr·max(0, 1 − r·e) for 0-based epoch e: epoch 0 trains at the full rate, never below 0."""
    got = [_plan("linear", 0.25).lr_at(e) for e in range(7)]
    assert got == pytest.approx([0.1, 0.075, 0.05, 0.025, 0.0, 0.0, 0.0], abs=1e-15), got
    assert [_plan("exponential", 0.5).lr_at(e) for e in range(3)] == pytest.approx([0.1, 0.05, 0.025])
    assert [_plan("none", 0.5).lr_at(e) for e in range(3)] == [0.1, 0.1, 0.1]


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_each_framework_steps_at_the_scheduled_rate_of_each_epoch(framework):
    """linreg, one full-batch SGD step per epoch, linear decay 0.4 (rates 0.1, 0.06, 0.02, 0, 0): the
    weights equal the hand-computed w ← w − lr_e · 2/n Xᵀ(Xw + b − y), and stop moving once the rate is 0."""
    rng = np.random.default_rng(5)
    X, y = rng.normal(size=(8, 2)), rng.normal(size=(8, 1))
    w, b = np.array([[0.3], [-0.2]]), np.array([0.1])
    fw = get_framework(framework)
    net = fw.build("linreg")
    fw.set_weights(net, {"linear.W": w, "linear.b": b})
    history = fw.train(net, X, y, epochs=5, batch_size=None, lr=0.1, optimizer="sgd", lr_decay="linear",
                       decay_rate=0.4, seed=0)
    losses = []
    for lr in (0.1 * max(0.0, 1 - 0.4 * e) for e in range(5)):
        r = X @ w + b - y
        losses.append(float(np.mean(r ** 2)))
        w, b = w - lr * 2 * X.T @ r / len(X), b - lr * 2 * r.mean(axis=0)
    got = fw.get_weights(net)
    assert max_abs(got["linear.W"], w) <= 1e-12 and max_abs(got["linear.b"], b) <= 1e-12, (got, w, b)
    assert max_abs(history["loss"], losses) <= 1e-12, (history["loss"], losses)


# ---------------------------------------------------------------- data-parallel's logged loss


def test_ddp_logs_the_loss_of_the_whole_batch_averaged_over_the_replicas():
    """Two DDP replicas of linreg on one full batch of 8: each step's logged loss is the MSE over all 8 rows
    (the mean of the two shares' MSEs), computed here by hand; one replica's own share would differ."""
    from triptych.distributed import Run, train_replicated

    rng = np.random.default_rng(6)
    X, y = rng.normal(size=(8, 2)), rng.normal(size=(8, 1)) + np.r_[np.zeros(4), 3 * np.ones(4)][:, None]
    w, b = np.array([[0.3], [-0.2]]), np.array([0.1])
    run = Run("linreg", {"linear.W": w, "linear.b": b}, X, y,
              train=dict(epochs=2, batch_size=None, lr=0.1, optimizer="sgd", seed=0))
    [(history, _)] = train_replicated("torch", [run], replicas=2)
    assert history["replicas"] == 2
    losses = []
    for _ in range(2):
        r = X @ w + b - y
        losses.append(float(np.mean(r ** 2)))
        w, b = w - 0.1 * 2 * X.T @ r / len(X), b - 0.1 * 2 * r.mean(axis=0)
    share = float(np.mean((X[:4] @ np.array([[0.3], [-0.2]]) + 0.1 - y[:4]) ** 2))
    assert abs(share - losses[0]) > 0.1  # the shares' losses differ: a share's loss is not the batch's
    assert max_abs(history["loss"], losses) <= 1e-12, (history["loss"], losses)
