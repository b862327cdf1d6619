"""Under- and over-fitting (d2l ch. 4.4): linear regression on polynomial features of one variable.

Data: y = 5 + 1.2x − 3.4x² + 5.6x³ + ε, x ~ N(0, 1), ε ~ N(0, 0.1²): 100 training and 100 test points
drawn once with ``SEED``, the same for every framework.  Three fits of ``linreg`` (in_features = the
number of features), each from the weights scratch draws with ``SEED``, copied into every framework, and
trained with SGD 0.01, batch 10 (the whole set when smaller), 100 epochs, in float64:

- cubic:    features (x, x², x³) on the 100 points — the right model, recovers b and w;
- underfit: x alone — too simple: train and test loss stay high;
- overfit:  (x, x², x³) on the first 2 training points — too little data: the test loss is far above
  the training loss.

The curves are the mean squared error on each whole set before training and after every epoch,
computed from each framework's own ``predict``.
"""
from __future__ import annotations

import itertools
from functools import partial

import numpy as np

from triptych.experiments import train_with_curves
from triptych.frameworks import get_framework
from triptych.registry import StudyResult, StudySpec, register_study

SEED = 0  # data, initial weights and minibatch order
TRUE_B, TRUE_W = 5.0, (1.2, -3.4, 5.6)
NOISE, N_TRAIN, N_TEST = 0.1, 100, 100
RECIPE = dict(optimizer="sgd", lr=0.01, batch_size=10, epochs=100)
QUICK_EPOCHS = 20
VARIANTS = (  # (label, degree, training points: None = all)
    ("cubic", 3, None),
    ("underfit: x alone", 1, None),
    ("overfit: 2 points", 3, 2),
)
FEATURE_NAMES = {1: "x", 3: "x, x², x³"}
WEIGHT_TOLERANCE = 0.1  # the cubic fit's b and w, against the truth
LOSS_RATIO = 10.0  # underfit test / cubic test, and overfit test / overfit train, at least
AGREEMENT = 1e-9  # float64: every curve and final weight, between any two frameworks
COLUMNS = ["variant", "framework", "features", "points", "train_loss", "test_loss", "b", "w1", "w2", "w3"]


def cubic_data(seed: int = SEED) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """x_train (100,), y_train (100, 1), x_test (100,), y_test (100, 1)."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=N_TRAIN + N_TEST)
    y = TRUE_B + sum(w * x ** (i + 1) for i, w in enumerate(TRUE_W)) + rng.normal(scale=NOISE, size=x.size)
    y = y.reshape(-1, 1)
    return x[:N_TRAIN], y[:N_TRAIN], x[N_TRAIN:], y[N_TRAIN:]


def powers(x: np.ndarray, degree: int) -> np.ndarray:
    """Features (N, degree): x, x², …, x^degree."""
    return x[:, None] ** np.arange(1, degree + 1)


def run_fits(frameworks, epochs: int = RECIPE["epochs"], progress=None) -> dict:
    """{(label, framework): train_with_curves result} for every variant and framework."""
    x_train, y_train, x_test, y_test = cubic_data()
    scratch = get_framework("scratch")
    runs = {}
    for label, degree, points in VARIANTS:
        X, y = powers(x_train, degree)[:points], y_train[:points]
        start = scratch.get_weights(scratch.build("linreg", seed=SEED, in_features=degree))
        for name in frameworks:
            if progress:
                progress(f"[{name}] {label} …")
            fw = get_framework(name)
            net = fw.build("linreg", seed=SEED, in_features=degree)
            fw.set_weights(net, start)
            runs[label, name] = train_with_curves(fw, net, X, y, powers(x_test, degree), y_test,
                                                  **{**RECIPE, "epochs": epochs}, seed=SEED)
    return runs


def curve_agreement(runs: dict, frameworks) -> float:
    """Largest difference between two frameworks, over every variant's train and test curves and final weights."""
    worst = 0.0
    for label in {key[0] for key in runs}:
        for a, b in itertools.combinations(frameworks, 2):
            ra, rb = runs[label, a], runs[label, b]
            diffs = [np.max(np.abs(np.subtract(ra[c], rb[c]))) for c in ("train", "test")]
            diffs += [np.max(np.abs(ra["weights"][k] - rb["weights"][k])) for k in ra["weights"]]
            worst = max(worst, *map(float, diffs))
    return worst


def run(frameworks, quick: bool = False, progress=None) -> StudyResult:
    frameworks = list(frameworks)
    epochs = QUICK_EPOCHS if quick else RECIPE["epochs"]
    runs = run_fits(frameworks, epochs, progress)
    rows = [{"variant": "truth", "features": FEATURE_NAMES[3], "b": TRUE_B,
             **{f"w{i + 1}": w for i, w in enumerate(TRUE_W)}}]
    for (label, name), r in runs.items():
        degree, points = next((d, p) for v, d, p in VARIANTS if v == label)
        w = r["weights"]["linear.W"].ravel()
        rows.append({"variant": label, "framework": name, "features": FEATURE_NAMES[degree],
                     "points": points or N_TRAIN, "train_loss": r["train"][-1], "test_loss": r["test"][-1],
                     "b": float(r["weights"]["linear.b"][0]), **{f"w{i + 1}": float(v) for i, v in enumerate(w)}})
    checks = []
    if not quick:
        for name in frameworks:
            weights = runs["cubic", name]["weights"]
            error = float(np.max(np.abs(np.r_[weights["linear.b"] - TRUE_B, weights["linear.W"].ravel() - TRUE_W])))
            checks.append({"what": f"{name}: cubic fit recovers b = {TRUE_B:g}, w = {list(TRUE_W)} (max error)",
                           "value": error, "target": f"≤ {WEIGHT_TOLERANCE:g}", "passed": error <= WEIGHT_TOLERANCE})
    under = min(runs["underfit: x alone", n]["test"][-1] / runs["cubic", n]["test"][-1] for n in frameworks)
    over = min(runs["overfit: 2 points", n]["test"][-1] / runs["overfit: 2 points", n]["train"][-1] for n in frameworks)
    checks += [
        {"what": "underfit test loss / cubic test loss (lowest over frameworks)", "value": under,
         "target": f"≥ {LOSS_RATIO:g}", "passed": under >= LOSS_RATIO},
        {"what": "overfit test loss / its training loss (lowest over frameworks)", "value": over,
         "target": f"≥ {LOSS_RATIO:g}", "passed": over >= LOSS_RATIO},
    ]
    if len(frameworks) > 1:
        spread = curve_agreement(runs, frameworks)
        checks.append({"what": "frameworks agree: every loss curve and final weight (max abs difference)",
                       "value": spread, "target": f"≤ {AGREEMENT:g}", "passed": spread <= AGREEMENT})
    notes = [f"SGD {RECIPE['lr']}, batch {RECIPE['batch_size']}, {epochs} epochs, float64; losses are the MSE on "
             "the whole set, after the last epoch."]
    if quick:
        notes.append(f"Quick run ({epochs} epochs): the weights are checked against the truth only in the full run.")
    return StudyResult("Under- and over-fitting: a cubic fitted with 3 features, 1 feature, and on 2 points",
                       COLUMNS, rows, checks, notes,
                       plots={"curves": partial(plot_curves, runs, {v: v for v, _, _ in VARIANTS}, frameworks,
                                                 title="train and test loss"),
                              "weights": partial(_plot_weights, runs, frameworks[0])})


FRAMEWORK_STYLES = {"scratch": dict(linestyle="-", linewidth=2.5, alpha=0.5), "torch": dict(linestyle="--"),
                    "keras": dict(linestyle=":")}


def plot_curves(runs: dict, panels: dict, frameworks, path, title: str) -> None:
    """One panel per key of ``panels`` (key → panel title): train and test loss per epoch (log scale) of
    ``runs[key, framework]``, one line style per framework."""
    from triptych.plotting import pyplot, save_figure

    plt = pyplot()
    fig, axes = plt.subplots(1, len(panels), figsize=(3.6 * len(panels), 3.4), squeeze=False)
    for ax, (key, label) in zip(axes[0], panels.items()):
        for name in frameworks:
            r = runs[key, name]
            for curve, color in (("train", "C0"), ("test", "C1")):
                ax.semilogy(r[curve], color=color, label=f"{curve} ({name})", **FRAMEWORK_STYLES.get(name, {}))
        ax.set(title=label, xlabel="epoch")
        ax.grid(True, alpha=0.3)
    axes[0][0].set_ylabel("mean squared error")
    axes[0][0].legend(fontsize=7)
    fig.suptitle(title)
    save_figure(fig, path)


def _plot_weights(runs: dict, framework: str, path) -> None:
    """Grouped bars: b, w1, w2, w3 of the truth and of each fit in ``framework`` (the frameworks agree)."""
    from triptych.plotting import pyplot, save_figure

    plt = pyplot()
    keys = ["b", "w1", "w2", "w3"]
    bars = {"truth": [TRUE_B, *TRUE_W]}
    for label, _, _ in VARIANTS:
        weights = runs[label, framework]["weights"]
        learned = [weights["linear.b"][0], *weights["linear.W"].ravel()]
        bars[f"{label} ({framework})"] = learned + [0.0] * (len(keys) - len(learned))
    fig, ax = plt.subplots(figsize=(7, 3.4))
    width = 0.8 / len(bars)
    for j, (label, values) in enumerate(bars.items()):
        ax.bar(np.arange(len(keys)) + j * width, values, width, label=label)
    ax.set_xticks(np.arange(len(keys)) + width * (len(bars) - 1) / 2, keys)
    ax.axhline(0, color="black", linewidth=0.5)
    ax.set(title="learned weights beside the truth (a missing weight drawn as 0)")
    ax.grid(True, axis="y", alpha=0.3)
    ax.legend(fontsize=8)
    save_figure(fig, path)


register_study(StudySpec(
    name="fitting",
    description="a cubic y = 5 + 1.2x − 3.4x² + 5.6x³ + noise fitted by linear regression on (x, x², x³), "
                "on x alone (underfit) and on 2 points (overfit); SGD 0.01, batch 10, 100 epochs",
    run=run,
    models=("linreg",),
    teaches="the right features recover the truth; too few features underfit (high train and test loss), "
            "too little data overfits (train loss far below test loss)",
    origin="d2l ch. 4.4 (model selection, underfitting and overfitting)",
    order=20,
))
