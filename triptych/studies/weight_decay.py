"""Weight decay (d2l ch. 3.7 / 4.5): L2 regularisation of an over-parameterised linear regression.

Data: y = 0.05 + Σᵢ 0.01·xᵢ + ε with p = 200 features xᵢ ~ N(0, 1), ε ~ N(0, 0.01²); 20 training and
100 test points drawn once with ``SEED``.  ``linreg`` (in_features = 200, l2 = λ) for λ ∈ {0, 1, 3, 10},
every λ and framework from the same initial weights (scratch's, drawn with ``SEED``), SGD 0.003, batch 1,
100 epochs, float64, as d2l does.

The penalty λ/2·‖w‖² (on w only, as d2l's code: the bias is not decayed) is written the way each
framework's users write it:

- scratch adds λ/2·‖w‖² to the loss (``scratch.network.Network(l2=…)``);
- torch puts ``weight_decay=λ`` on the weight's parameter group only (``torch_impl.linreg.param_groups``);
- Keras gives the kernel ``kernel_regularizer=L2(λ/2)``: its L2(l) adds l·‖w‖².

The curves are the data loss alone (the mean squared error without the penalty) on each whole set.
"""
from __future__ import annotations

from functools import partial

import numpy as np

from triptych.experiments import train_with_curves
from triptych.frameworks import get_framework
from triptych.registry import StudyResult, StudySpec, register_study
from triptych.studies.fitting import curve_agreement, plot_curves

SEED = 0  # data, initial weights and minibatch order
P, N_TRAIN, N_TEST = 200, 20, 100
TRUE_B, TRUE_W, NOISE = 0.05, 0.01, 0.01
LAMBDAS = (0.0, 1.0, 3.0, 10.0)
RECIPE = dict(optimizer="sgd", lr=0.003, batch_size=1, epochs=100)
QUICK_EPOCHS = 10
OVERFIT_RATIO = 100.0  # λ = 0: test loss / training loss, at least
DECAY_GAIN = 10.0  # test loss at λ = 0 / test loss at λ = 3, at least
AGREEMENT = 1e-9  # float64: every curve and final weight, between any two frameworks, at every λ
COLUMNS = ["penalty", "framework", "train_loss", "test_loss", "w_norm"]


def high_dimensional_data(seed: int = SEED) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """X_train (20, 200), y_train (20, 1), X_test (100, 200), y_test (100, 1)."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(N_TRAIN + N_TEST, P))
    y = (TRUE_B + X @ np.full(P, TRUE_W) + rng.normal(scale=NOISE, size=len(X))).reshape(-1, 1)
    return X[:N_TRAIN], y[:N_TRAIN], X[N_TRAIN:], y[N_TRAIN:]


def sweep(frameworks, epochs: int = RECIPE["epochs"], lambdas=LAMBDAS, progress=None) -> dict:
    """{(λ, framework): train_with_curves result}."""
    X, y, X_test, y_test = high_dimensional_data()
    scratch = get_framework("scratch")
    start = scratch.get_weights(scratch.build("linreg", seed=SEED, in_features=P))
    runs = {}
    for lam in lambdas:
        for name in frameworks:
            if progress:
                progress(f"[{name}] λ = {lam:g} …")
            fw = get_framework(name)
            net = fw.build("linreg", seed=SEED, in_features=P, l2=lam)
            fw.set_weights(net, start)
            runs[lam, name] = train_with_curves(fw, net, X, y, X_test, y_test, **{**RECIPE, "epochs": epochs},
                                                seed=SEED)
    return runs


def run(frameworks, quick: bool = False, progress=None) -> StudyResult:
    frameworks = list(frameworks)
    epochs = QUICK_EPOCHS if quick else RECIPE["epochs"]
    runs = sweep(frameworks, epochs, progress=progress)
    rows = [{"penalty": f"λ = {lam:g}", "framework": name, "train_loss": r["train"][-1], "test_loss": r["test"][-1],
             "w_norm": float(np.linalg.norm(r["weights"]["linear.W"]))} for (lam, name), r in runs.items()]
    overfit = min(runs[0.0, n]["test"][-1] / runs[0.0, n]["train"][-1] for n in frameworks)
    gain = min(runs[0.0, n]["test"][-1] / runs[3.0, n]["test"][-1] for n in frameworks)
    checks = [
        {"what": "λ = 0: test loss / training loss (lowest over frameworks)", "value": overfit,
         "target": f"≥ {OVERFIT_RATIO:g}", "passed": overfit >= OVERFIT_RATIO},
        {"what": "test loss at λ = 0 / test loss at λ = 3 (lowest over frameworks)", "value": gain,
         "target": f"≥ {DECAY_GAIN:g}", "passed": gain >= DECAY_GAIN},
    ]
    if len(frameworks) > 1:
        for lam in LAMBDAS:
            spread = curve_agreement({k: v for k, v in runs.items() if k[0] == lam}, frameworks)
            checks.append({"what": f"λ = {lam:g}: frameworks agree, every loss curve and final weight "
                                   "(max abs difference)", "value": spread, "target": f"≤ {AGREEMENT:g}",
                           "passed": spread <= AGREEMENT})
    notes = [f"SGD {RECIPE['lr']}, batch {RECIPE['batch_size']}, {epochs} epochs, float64; losses are the MSE "
             "without the penalty, on the whole set after the last epoch; w_norm = ‖w‖.",
             "scratch: loss + λ/2·‖w‖²; torch: SGD([{params: [weight], weight_decay: λ}, {params: [bias]}]); "
             "Keras: Dense(kernel_regularizer=L2(λ/2))."]
    return StudyResult("Weight decay: p = 200 features, 20 training points, λ ∈ {0, 1, 3, 10}", COLUMNS, rows,
                       checks, notes,
                       plots={"curves": partial(plot_curves, runs, {lam: f"λ = {lam:g}" for lam in LAMBDAS}, frameworks,
                                                 title="train and test loss"),
                              "lambda": partial(_plot_lambda, runs, frameworks)})


def _plot_lambda(runs: dict, frameworks, path) -> None:
    """Final train and test loss (log) and ‖w‖ against λ, one marker per framework."""
    from triptych.plotting import pyplot, save_figure

    plt = pyplot()
    fig, (left, right) = plt.subplots(1, 2, figsize=(9, 3.4))
    for j, name in enumerate(frameworks):
        mine = [runs[lam, name] for lam in LAMBDAS]
        style = dict(marker="os^"[j % 3], fillstyle="none", linestyle="-" if j == 0 else "none")
        left.semilogy(LAMBDAS, [r["train"][-1] for r in mine], color="C0", label=f"train ({name})", **style)
        left.semilogy(LAMBDAS, [r["test"][-1] for r in mine], color="C1", label=f"test ({name})", **style)
        right.plot(LAMBDAS, [np.linalg.norm(r["weights"]["linear.W"]) for r in mine], color="C2", label=name, **style)
    left.set(title="final loss", xlabel="λ", ylabel="mean squared error")
    right.set(title="‖w‖ after training", xlabel="λ")
    for ax in (left, right):
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=7)
    save_figure(fig, path)


register_study(StudySpec(
    name="weight_decay",
    description="L2 weight decay on linear regression with p = 200 features and 20 training points, "
                "λ ∈ {0, 1, 3, 10}, SGD 0.003, batch 1, 100 epochs; the penalty written each framework's way",
    run=run,
    models=("linreg",),
    teaches="with more features than points the unregularised fit memorises the training set; λ/2·‖w‖² "
            "trades training loss for a test loss ~100× lower — and L2 is spelled differently in each framework",
    origin="d2l ch. 3.7 / 4.5 (weight decay)",
    order=30,
))
