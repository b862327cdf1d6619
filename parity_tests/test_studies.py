"""The studies fitting, weight_decay and descent: their targets (quick runs here, the full recipes under
``slow``), what they teach, their plots, and ``triptych study``."""
from __future__ import annotations

import re

import numpy as np
import pytest

from triptych.cli import main
from triptych.frameworks import FRAMEWORKS
from triptych.registry import get_study
from triptych.studies import descent, fitting, weight_decay


def failing(result) -> list[str]:
    return [f"{c['what']}: {c['value']:.3g} (target {c['target']})" for c in result.checks if not c["passed"]]


def check(result, words: str) -> dict:
    return next(c for c in result.checks if words in c["what"])


@pytest.fixture(scope="module")
def fitting_quick():
    return get_study("fitting").run(FRAMEWORKS, quick=True)


@pytest.fixture(scope="module")
def weight_decay_quick():
    return get_study("weight_decay").run(FRAMEWORKS, quick=True)


@pytest.fixture(scope="module")
def descent_result():
    return get_study("descent").run(FRAMEWORKS)


# ---------------------------------------------------------------- fitting


def test_fitting_data_is_one_fixed_cubic():
    x, y, x_test, y_test = fitting.cubic_data()
    assert x.shape == x_test.shape == (100,) and y.shape == y_test.shape == (100, 1)
    noise = y.ravel() - (5 + 1.2 * x - 3.4 * x ** 2 + 5.6 * x ** 3)
    assert 0.07 < noise.std() < 0.13 and abs(noise.mean()) < 0.03
    assert all(np.array_equal(a, b) for a, b in zip(fitting.cubic_data(), (x, y, x_test, y_test)))
    assert np.array_equal(fitting.powers(np.array([2.0, -1.0]), 3), [[2, 4, 8], [-1, 1, -1]])


def test_fitting_quick_run_meets_its_targets(fitting_quick):
    """20 epochs: the underfit's test loss ≥ 10× the cubic's, the overfit's ≥ 10× its training loss, the
    three frameworks' curves and weights equal to 1e-9."""
    assert not failing(fitting_quick), failing(fitting_quick)
    assert check(fitting_quick, "frameworks agree")["value"] <= 1e-9
    assert check(fitting_quick, "underfit")["value"] >= 10 and check(fitting_quick, "overfit")["value"] >= 10
    rows = fitting_quick.rows
    assert rows[0] == {"variant": "truth", "features": "x, x², x³", "b": 5.0, "w1": 1.2, "w2": -3.4, "w3": 5.6}
    assert {(r["variant"], r["framework"]) for r in rows[1:]} == {(v, f) for v, _, _ in fitting.VARIANTS
                                                                  for f in FRAMEWORKS}


@pytest.mark.slow
def test_fitting_full_recipe_recovers_the_cubic():
    """100 epochs: b = 5, w = [1.2, −3.4, 5.6] within 0.1 in all three frameworks, and every other target."""
    result = get_study("fitting").run(FRAMEWORKS)
    print("\n" + "\n".join(f"{c['what']}: {c['value']:.4g}" for c in result.checks))
    assert not failing(result), failing(result)
    assert sum("cubic fit recovers" in c["what"] for c in result.checks) == 3


def test_agreement_check_catches_a_difference():
    """The agreement figure is a real difference: 1e-8 on one weight of one framework exceeds 1e-9."""
    run = {"train": [1.0, 0.5], "test": [2.0, 1.0], "weights": {"linear.W": np.ones((3, 1)), "linear.b": np.zeros(1)}}
    moved = {**run, "weights": {**run["weights"], "linear.b": np.full(1, 1e-8)}}
    assert fitting.curve_agreement({("cubic", "a"): run, ("cubic", "b"): run}, ["a", "b"]) == 0.0
    assert fitting.curve_agreement({("cubic", "a"): run, ("cubic", "b"): moved}, ["a", "b"]) > fitting.AGREEMENT


# ---------------------------------------------------------------- weight decay


def test_weight_decay_data():
    X, y, X_test, y_test = weight_decay.high_dimensional_data()
    assert X.shape == (20, 200) and X_test.shape == (100, 200) and y.shape == (20, 1) and y_test.shape == (100, 1)
    noise = np.r_[y, y_test].ravel() - (0.05 + np.r_[X, X_test].sum(axis=1) * 0.01)
    assert 0.007 < noise.std() < 0.013


def test_weight_decay_quick_run_meets_its_targets(weight_decay_quick):
    """10 epochs: at λ = 0 the training loss is ≥ 100× below the test loss, λ = 3 cuts the test loss ≥ 10×,
    and the three frameworks agree to 1e-9 at every λ; ‖w‖ shrinks as λ grows."""
    result = weight_decay_quick
    assert not failing(result), failing(result)
    for lam in weight_decay.LAMBDAS:
        assert check(result, f"λ = {lam:g}: frameworks agree")["value"] <= 1e-9
    for name in FRAMEWORKS:
        norms = [r["w_norm"] for r in result.rows if r["framework"] == name]
        assert len(norms) == 4 and all(a > b for a, b in zip(norms, norms[1:])), (name, norms)


@pytest.mark.slow
def test_weight_decay_full_recipe():
    """100 epochs of SGD 0.003, batch 1: every target of the issue."""
    result = get_study("weight_decay").run(FRAMEWORKS)
    print("\n" + "\n".join(f"{c['what']}: {c['value']:.4g}" for c in result.checks))
    assert not failing(result), failing(result)


# ---------------------------------------------------------------- descent


@pytest.mark.usefixtures("keras_fw")  # Keras set up (keras_impl.setup) before it is imported here
def test_descent_derivative_by_hand_is_autograds():
    """scratch's f'(x) = 2x·sin x + x²·cos x against torch's autograd and Keras's GradientTape on a grid."""
    import keras
    import tensorflow as tf
    import torch

    from keras_impl.descent import f as keras_f
    from scratch.descent import grad_f
    from torch_impl.descent import f as torch_f

    grid = np.linspace(-4, 7, 23)
    x = torch.tensor(grid, requires_grad=True)
    torch_f(x).sum().backward()
    v = keras.Variable(grid, dtype="float64")
    with tf.GradientTape() as tape:
        value = keras.ops.sum(keras_f(v))
    for autograd in (x.grad.numpy(), tape.gradient(value, v).numpy()):
        assert np.max(np.abs(grad_f(grid) - autograd)) <= 1e-12


def test_descent_paths_agree_for_every_optimizer(descent_result):
    """Each framework's stock SGD, momentum, RMSprop and Adam: paths equal to 1e-12 (float64), both starts."""
    assert not failing(descent_result), failing(descent_result)
    assert {c["what"].split(":")[0] for c in descent_result.checks} == set(descent.OPTIMIZERS)
    assert len(descent_result.rows) == len(descent.STARTS) * len(descent.OPTIMIZERS) * len(FRAMEWORKS)


def test_descent_lessons(descent_result):
    """From x₀ = 2 momentum crosses the flat inflection point at 0 into the minimum near −2.29, where SGD,
    RMSprop and Adam stall near 0; from x₀ = 6 all four settle in the minimum near 5.09."""
    final = {(r["start"], r["optimizer"]): r["x_final"] for r in descent_result.rows if r["framework"] == "torch"}
    assert abs(final["x₀ = 2", "momentum 0.9"] + 2.289) < 0.01
    for label in ("SGD", "RMSprop", "Adam"):
        assert abs(final["x₀ = 2", label]) < 0.1, label
    for label in descent.OPTIMIZERS:
        assert abs(final["x₀ = 6", label] - 5.087) < 0.01, label


def test_descent_check_has_teeth():
    """A learning rate off by one part in 10⁹ moves the path by more than the 1e-12 the check allows."""
    from scratch.descent import descend

    plan = descent.plan_for("Adam")
    moved = descent.TrainPlan(**{**plan.__dict__, "lr": plan.lr * (1 + 1e-9)})
    assert np.max(np.abs(descend(2.0, 100, plan) - descend(2.0, 100, moved))) > descent.AGREEMENT


# ---------------------------------------------------------------- plots and the command


def test_every_plot_is_written(tmp_path, fitting_quick, weight_decay_quick, descent_result):
    for name, result in (("fitting", fitting_quick), ("weight_decay", weight_decay_quick), ("descent", descent_result)):
        assert result.plots, name
        for plot, draw in result.plots.items():
            path = tmp_path / f"{name}_{plot}.png"
            draw(path)
            assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.stat().st_size > 10_000, path


def test_study_command_prints_the_table_and_checks(capsys):
    assert main(["study", "descent", "--framework", "scratch"]) == 0
    out = capsys.readouterr().out
    assert re.search(r"^start\s+optimizer\s+framework\s+x_final\s+f_final", out, re.MULTILINE)
    assert re.search(r"^x₀ = 2\s+momentum 0\.9\s+scratch\s+-2\.28", out, re.MULTILINE)


def test_report_records_take_rows_that_leave_cells_out():
    """A study's row may omit a text cell (fitting's truth row has no framework): the CSV/JSON records
    still name each figure by the cells it has."""
    from reports.records import study_rows
    from reports.run import StudyReport
    from triptych.registry import StudyResult

    result = StudyResult("t", ["variant", "framework", "features", "b"],
                         [{"variant": "truth", "b": 5.0},
                          {"variant": "cubic", "framework": "torch", "features": "x", "b": 4.9}])
    rows = study_rows(StudyReport("t", result))
    assert [(r["framework"], r["metric"], r["value"]) for r in rows] == [("all", "truth: b", 5.0),
                                                                       ("torch", "cubic · x: b", 4.9)]
