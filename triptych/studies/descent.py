"""Gradient descent on a curve: minimise f(x) = x²·sin x from two starts with four optimizers.

f'(x) = 2x·sin x + x²·cos x vanishes at the inflection point x = 0 (f ≈ x³ there), at the local minima
x ≈ −2.29 (f ≈ −3.95) and x ≈ 5.09 (f ≈ −24.08), and at the maximum between 0 and 5.09 (x ≈ 2.29).
From x₀ = 2 the slope leads down towards the flat inflection point at 0, where plain SGD, RMSprop and Adam
stall, while momentum carries x through it into the minimum at −2.29; from x₀ = 6 all four settle in the
deeper minimum at 5.09.

Each framework writes it its own way (``scratch/descent.py``: the derivative by hand;
``torch_impl/descent.py``: autograd; ``keras_impl/descent.py``: tf.GradientTape on a one-variable
model), each with its own stock optimizer and the same hyperparameters: 100 steps, lr 0.05, momentum 0.9,
RMSprop ρ 0.9, Adam β 0.9 / 0.999, and a tiny epsilon in RMSprop and Adam (the frameworks place epsilon
differently), float64.
"""
from __future__ import annotations

import importlib
import itertools
from functools import partial

import numpy as np

from triptych.frameworks import OPTIMIZER_OPTIONS, TrainPlan, get_framework
from triptych.packages import PACKAGES
from triptych.registry import StudyResult, StudySpec, register_study
from triptych.tolerances import PARITY_ADAM_EPSILON, PARITY_RMSPROP_EPSILON

STARTS = (2.0, 6.0)
STEPS = 100
LR = 0.05
OPTIMIZERS = {  # label: (optimizer, options)
    "SGD": ("sgd", {}),
    "momentum 0.9": ("sgd", {"momentum": 0.9}),
    "RMSprop": ("rmsprop", {"rho": 0.9, "epsilon": PARITY_RMSPROP_EPSILON}),
    "Adam": ("adam", {"beta_1": 0.9, "beta_2": 0.999, "epsilon": PARITY_ADAM_EPSILON}),
}
AGREEMENT = 1e-12  # float64: every position of every path, between any two frameworks
COLUMNS = ["start", "optimizer", "framework", "x_final", "f_final"]


def curve(x):
    """f(x) = x²·sin x (for the table and the plot; each framework writes its own)."""
    return x ** 2 * np.sin(x)


def plan_for(label: str) -> TrainPlan:
    """The optimizer settings of ``label`` as a plan each framework's optimizer factory reads."""
    optimizer, options = OPTIMIZERS[label]
    unknown = set(options) - OPTIMIZER_OPTIONS.get(optimizer, set())
    if optimizer not in OPTIMIZER_OPTIONS or unknown:
        raise ValueError(f"descent: optimizer {optimizer!r} with options {sorted(options)} is not offered; "
                         f"expected one of {sorted(OPTIMIZER_OPTIONS)} with its options")
    return TrainPlan(epochs=STEPS, batch_size=None, lr=LR, optimizer=optimizer, options=dict(options), seed=0)


def paths(frameworks, starts=STARTS, steps: int = STEPS, progress=None) -> dict:
    """{(x₀, optimizer label, framework): path (steps + 1,)} from each framework's ``descent`` module."""
    out = {}
    for name in frameworks:
        get_framework(name)  # a missing framework says what to install
        module = importlib.import_module(f"{PACKAGES[name]}.descent")
        if progress:
            progress(f"[{name}] {len(starts)} starts × {len(OPTIMIZERS)} optimizers …")
        for x0, label in itertools.product(starts, OPTIMIZERS):
            out[x0, label, name] = module.descend(x0, steps, plan_for(label))
    return out


def run(frameworks, quick: bool = False, progress=None) -> StudyResult:
    frameworks = list(frameworks)
    runs = paths(frameworks, progress=progress)
    rows = []
    for x0, label, name in itertools.product(STARTS, OPTIMIZERS, frameworks):
        end = runs[x0, label, name][-1]
        rows.append({"start": f"x₀ = {x0:g}", "optimizer": label, "framework": name, "x_final": float(end),
                     "f_final": float(curve(end))})
    checks = []
    if len(frameworks) > 1:
        for label in OPTIMIZERS:
            spread = max(float(np.max(np.abs(runs[x0, label, a] - runs[x0, label, b])))
                         for x0 in STARTS for a, b in itertools.combinations(frameworks, 2))
            checks.append({"what": f"{label}: paths equal across frameworks (max abs difference, both starts)",
                           "value": spread, "target": f"≤ {AGREEMENT:g}", "passed": spread <= AGREEMENT})
    notes = [f"{STEPS} steps, lr {LR}, float64; RMSprop and Adam with epsilon {PARITY_ADAM_EPSILON:g} in all three, "
             "since the frameworks place it differently (triptych/tolerances.py)."]
    return StudyResult("Gradient descent on f(x) = x²·sin x: SGD, momentum, RMSprop, Adam", COLUMNS, rows, checks,
                       notes, plots={"paths": partial(_plot, runs, frameworks)})


def _plot(runs: dict, frameworks, path) -> None:
    """Top: the curve with each optimizer's path (points x_t, f(x_t); the last one large), one panel per
    start, from the first framework; bottom: x against the step, every framework (dashed over it)."""
    from triptych.plotting import pyplot, save_figure

    plt = pyplot()
    fig, axes = plt.subplots(2, len(STARTS), figsize=(5 * len(STARTS), 6.4), squeeze=False)
    grid = np.linspace(-4, 7, 400)
    for col, x0 in enumerate(STARTS):
        top, bottom = axes[0][col], axes[1][col]
        top.plot(grid, curve(grid), color="0.6", linewidth=1)
        for i, label in enumerate(OPTIMIZERS):
            xs = runs[x0, label, frameworks[0]]
            top.plot(xs, curve(xs), "osD^"[i], color=f"C{i}", markersize=4, alpha=0.35, fillstyle="none")
            top.plot(xs[-1:], curve(xs[-1:]), "osD^"[i], color=f"C{i}", markersize=10, label=label)
            for j, name in enumerate(frameworks):
                style = dict(linewidth=1.5, alpha=0.6) if j == 0 else dict(linewidth=0.8, linestyle="--")
                bottom.plot(xs if j == 0 else runs[x0, label, name], color=f"C{i}",
                            label=f"{label} ({name})" if col == 0 else None, **style)
        top.set(title=f"f(x) = x²·sin x from x₀ = {x0:g} ({frameworks[0]})", xlabel="x", ylabel="f(x)")
        bottom.set(xlabel="step", ylabel="x")
        for ax in (top, bottom):
            ax.grid(True, alpha=0.3)
    axes[0][0].legend(fontsize=8, title="last point of", title_fontsize=8)
    axes[1][0].legend(fontsize=6, ncol=2)
    save_figure(fig, path)


register_study(StudySpec(
    name="descent",
    description="minimise f(x) = x²·sin x from x₀ = 2 and x₀ = 6 with SGD, SGD momentum 0.9, RMSprop and Adam, "
                "100 steps, lr 0.05; the derivative by hand, by autograd and by GradientTape",
    run=run,
    teaches="the same optimizer settings give the same path in every framework; momentum carries x through a "
            "flat inflection point where SGD, RMSprop and Adam stall",
    origin="the PyTorch tutorial's gradient descent on a curve with several optimizers",
    order=40,
))
